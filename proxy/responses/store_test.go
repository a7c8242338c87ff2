package responses

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"
)

// clockStore is a store whose clock the test moves.
func clockStore(ttl time.Duration, entries int, bytes int64) (*Store, *time.Time) {
	now := time.Unix(1700000000, 0)
	s := NewStore(ttl, entries, bytes)
	s.now = func() time.Time { return now }
	return s, &now
}

func entry(size int) Entry {
	return Entry{Response: []byte(strings.Repeat("x", size))}
}

func TestStoreBounds(t *testing.T) {
	t.Run("ttl", func(t *testing.T) {
		s, now := clockStore(time.Hour, 10, 1<<20)
		s.Put("resp_a", entry(10))
		*now = now.Add(59 * time.Minute)
		if _, ok := s.Get("resp_a"); !ok {
			t.Fatal("gone before its TTL")
		}
		*now = now.Add(time.Minute)
		if _, ok := s.Get("resp_a"); ok {
			t.Fatal("kept past its TTL")
		}
		s.Put("resp_b", entry(10)) // a Put drops what expired
		if s.Len() != 1 {
			t.Errorf("%d entries held, want 1", s.Len())
		}
	})
	t.Run("count", func(t *testing.T) {
		s, _ := clockStore(time.Hour, 3, 1<<20)
		for i := range 5 {
			s.Put(fmt.Sprintf("resp_%d", i), entry(10))
		}
		if s.Len() != 3 {
			t.Errorf("%d entries held, want 3", s.Len())
		}
		for i, want := range []bool{false, false, true, true, true} {
			if _, ok := s.Get(fmt.Sprintf("resp_%d", i)); ok != want {
				t.Errorf("resp_%d held %v, want %v (the oldest go first)", i, ok, want)
			}
		}
	})
	t.Run("bytes", func(t *testing.T) {
		s, _ := clockStore(time.Hour, 100, 250)
		for i := range 4 {
			s.Put(fmt.Sprintf("resp_%d", i), entry(100))
		}
		if _, ok := s.Get("resp_1"); ok || s.Len() != 2 {
			t.Errorf("%d entries held after 400 bytes into 250", s.Len())
		}
		s.Put("resp_big", entry(300)) // larger than the whole bound: not kept, nothing evicted for it
		if _, ok := s.Get("resp_big"); ok || s.Len() != 2 {
			t.Errorf("an entry over the bound was kept, or evicted others: %d held", s.Len())
		}
	})
	t.Run("delete", func(t *testing.T) {
		s, _ := clockStore(time.Hour, 10, 1<<20)
		s.Put("resp_a", entry(10))
		if !s.Delete("resp_a") || s.Delete("resp_a") {
			t.Error("Delete reported wrongly")
		}
		s.Put("resp_b", entry(10))
		if s.Len() != 1 {
			t.Errorf("%d held", s.Len())
		}
	})
}

func TestStoreItem(t *testing.T) {
	s, _ := clockStore(time.Hour, 10, 1<<20)
	out := json.RawMessage(`{"type":"function_call","id":"fc_abc_0","call_id":"call_1","name":"f","arguments":"{}"}`)
	in := json.RawMessage(`{"type":"message","id":"msg_abc_0","role":"user","content":"hi"}`)
	s.Put("resp_abc", Entry{Owner: "k1", Output: []json.RawMessage{out}, Input: []json.RawMessage{in}})
	for _, tt := range []struct {
		id   string
		want json.RawMessage
	}{{"fc_abc_0", out}, {"msg_abc_0", in}, {"msg_abc", nil}, {"fc_zzz_0", nil}, {"nounderscore", nil}} {
		owner, item, ok := s.Item(tt.id)
		if ok != (tt.want != nil) || string(item) != string(tt.want) || (ok && owner != "k1") {
			t.Errorf("Item(%q) = %q, %s, %v", tt.id, owner, item, ok)
		}
	}
}
