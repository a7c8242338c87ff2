package ledger

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	in := `{"messages":[{"role":"user","content":"my key is sk-proj-abcdefghijklmnop1234 and AKIAABCDEFGHIJKLMNOP, header Bearer abcdefghijklmnopqrstu, google AIzaSyA1234567890abcdefghijklmnopqrstuvw"}]}`
	out := string(redact([]byte(in)))
	for _, secret := range []string{"sk-proj-abcdefghijklmnop1234", "AKIAABCDEFGHIJKLMNOP", "abcdefghijklmnopqrstu", "AIzaSyA1234567890abcdefghijklmnopqrstuvw"} {
		if strings.Contains(out, secret) {
			t.Errorf("%q survived: %s", secret, out)
		}
	}
	if !strings.Contains(out, `"role":"user"`) || strings.Count(out, "[REDACTED]") != 4 {
		t.Errorf("redacted too much or too little: %s", out)
	}
	if redact(nil) != nil {
		t.Error("nil must stay nil (no body stored)")
	}
}

// The AWS documentation's example secret, and a PEM body that is not a real key.
const (
	awsSecret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	pemBody   = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj"
)

// TestRedactShapes puts each secret shape in a prompt, as the client's JSON body carries it
// (json.Marshal of the text), and checks that the secret is gone, the text around it stays and
// the body is still JSON. The escaped cases are written as an encoder that escapes '/' sends them.
func TestRedactShapes(t *testing.T) {
	for _, tc := range []struct {
		name, text, secret, keep string
		raw                      bool // text is already the JSON body's bytes
	}{
		{name: "aws secret after its label", text: "aws_secret_access_key = " + awsSecret, secret: awsSecret, keep: "aws_secret_access_key"},
		{name: "aws secret in env form", text: "export AWS_SECRET_ACCESS_KEY=" + awsSecret + "\nexport X=1", secret: awsSecret, keep: "export X=1"},
		{name: "aws secret in STS JSON", text: `{"AccessKeyId": "ASIAIOSFODNN7EXAMPLE", "SecretAccessKey": "` + awsSecret + `"}`, secret: awsSecret, keep: "SecretAccessKey"},
		{name: "aws key pair on one line", text: "use AKIAIOSFODNN7EXAMPLE " + awsSecret + " for prod", secret: awsSecret, keep: "for prod"},
		{name: "aws key pair in csv", text: "Access key ID,Secret access key\nAKIAIOSFODNN7EXAMPLE," + awsSecret + "\n", secret: awsSecret, keep: "Access key ID"},
		{name: "basic auth header", text: "Authorization: Basic YWxhZGRpbjpvcGVuc2VzYW1l", secret: "YWxhZGRpbjpvcGVuc2VzYW1l", keep: "Authorization: Basic"},
		{name: "basic auth curl", text: "curl -H 'authorization: basic dXNlcjpodW50ZXIy' https://x", secret: "dXNlcjpodW50ZXIy", keep: "https://x"},
		{name: "url password", text: "postgres://admin:hunter2secret@db.internal:5432/app", secret: "hunter2secret", keep: "postgres://admin:"},
		{name: "url password https", text: "clone https://bob:ghs-pass-9911@git.example.com/repo.git", secret: "ghs-pass-9911", keep: "@git.example.com/repo.git"},
		{name: "pem private key", text: "key:\n-----BEGIN PRIVATE KEY-----\n" + pemBody + "\n" + pemBody + "\n-----END PRIVATE KEY-----\nthanks", secret: pemBody, keep: "thanks"},
		{name: "pem rsa key", text: "-----BEGIN RSA PRIVATE KEY-----\n" + pemBody + "\n-----END RSA PRIVATE KEY-----", secret: pemBody},
		{name: "pem key cut off", text: "-----BEGIN OPENSSH PRIVATE KEY-----\n" + pemBody, secret: pemBody},
		{name: "stripe live secret", text: "stripe key sk_live_51H8abcdefghijklmnopqrstuv", secret: "sk_live_51H8abcdefghijklmnopqrstuv", keep: "stripe key"},
		{name: "stripe restricted", text: "rk_live_51H8abcdefghijklmnopqrstuv", secret: "rk_live_51H8abcdefghijklmnopqrstuv"},
		{name: "stripe test secret", text: "sk_test_4eC39HqLyjWDarjtT1zdp7dc", secret: "sk_test_4eC39HqLyjWDarjtT1zdp7dc"},
		{name: "hugging face token", text: "HF_TOKEN=hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567", secret: "hf_aBcDeFgHiJkLmNoPqRsTuVwXyZ01234567", keep: "HF_TOKEN="},
		{name: "bearer with plus slash equals", text: "Authorization: Bearer ya29+a0AfH6SMB/xyzXYZ0123456789==", secret: "ya29+a0AfH6SMB/xyzXYZ0123456789==", keep: "Authorization: Bearer"},
		{name: "json escaped bearer", raw: true, text: `{"content":"Bearer ya29+a0AfH6SMB\/xyzXYZ0123456789=="}`, secret: `xyzXYZ0123456789`},
		{name: "json escaped sk key in nested json", raw: true, text: `{"content":"{\"api_key\":\"sk-ant-api03-abcdefghijklmnop\"}"}`, secret: "abcdefghijklmnop", keep: `api_key`},
		{name: "json escaped aws secret", raw: true, text: `{"content":"{\"aws_secret_access_key\": \"wJalrXUtnFEMI\/K7MDENG\/bPxRfiCYEXAMPLEKEY\"}"}`, secret: "EXAMPLEKEY", keep: `aws_secret_access_key`},
		{name: "json escaped url password", raw: true, text: `{"content":"https:\/\/u:s3cretpw@h.example\/v1"}`, secret: "s3cretpw", keep: `h.example`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := tc.text
			if !tc.raw {
				b, _ := json.Marshal(map[string]string{"content": tc.text})
				body = string(b)
			}
			out := string(redact([]byte(body)))
			if strings.Contains(out, tc.secret) || !strings.Contains(out, "[REDACTED]") {
				t.Errorf("secret survived:\n in %s\nout %s", body, out)
			}
			if !strings.Contains(out, tc.keep) {
				t.Errorf("redacted %q too:\n in %s\nout %s", tc.keep, body, out)
			}
			if !json.Valid([]byte(out)) {
				t.Errorf("no longer JSON: %s", out)
			}
		})
	}
}

// TestRedactLeavesOrdinaryText: words and identifiers that look a little like secrets stay.
func TestRedactLeavesOrdinaryText(t *testing.T) {
	for _, text := range []string{
		"a basic understanding of the bearer of bad news",
		"Basic authentication sends the credentials on every request",
		"the http://example.com:8080/path@v2 url and mailto:someone@example.com",
		"the commit 3f786850e387550fdab836ed7e6dc881de23001b fixed it",
		"call hf_hub_download and sk_live_mode, then task-runner",
		"secret_access_key is the name of the setting",
		"AKIA alone, and a path /usr/local/lib/python3.12/site-packages/Foo",
		"-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA\n-----END PUBLIC KEY-----",
		"data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==",
	} {
		b, _ := json.Marshal(map[string]string{"content": text})
		if out := redact(b); string(out) != string(b) {
			t.Errorf("ordinary text changed:\n in %s\nout %s", b, out)
		}
	}
}
