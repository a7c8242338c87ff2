package app

import "testing"

func TestSetSectionValue(t *testing.T) {
	tests := []struct {
		name, in, key, val, want string
	}{
		{"replace, comment kept", "general_settings:\n  store_prompts_in_spend_logs: false # off\n  x: 1\n", "store_prompts_in_spend_logs", "true",
			"general_settings:\n  store_prompts_in_spend_logs: true # off\n  x: 1\n"},
		{"add after the last key", "general_settings:\n    master_key: k   # mine\n# tail\nmodel_list: []\n", "clawgate_listen", "127.0.0.1:4001",
			"general_settings:\n    master_key: k   # mine\n    clawgate_listen: 127.0.0.1:4001\n# tail\nmodel_list: []\n"},
		{"remove", "general_settings:\n  a: 1\n  maximum_spend_logs_retention_period: 30d\n  b: 2\n", "maximum_spend_logs_retention_period", "",
			"general_settings:\n  a: 1\n  b: 2\n"},
		{"new section", "model_list: []\n", "a", "1", "model_list: []\n\ngeneral_settings:\n  a: 1\n"},
		{"empty section", "general_settings:\nmodel_list: []\n", "a", "1", "general_settings:\n  a: 1\nmodel_list: []\n"},
		{"quoted value replaced", "general_settings:\n  p: \"30d\"\n", "p", "7d", "general_settings:\n  p: 7d\n"},
		{"remove what is not there", "general_settings:\n  a: 1\n", "b", "", "general_settings:\n  a: 1\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := parseConfigFile([]byte(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.setSectionValue("general_settings", tt.key, tt.val)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tt.want {
				t.Errorf("got:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}
