package responses

import (
	"bytes"
	"encoding/json"
	"strings"
	"sync"
	"time"
)

// Defaults for a Store: a day, as general_settings.responses_store_ttl says unless set, and
// bounds that keep a busy gateway's memory in check whatever the traffic.
const (
	DefaultTTL        = 24 * time.Hour
	DefaultMaxEntries = 10000
	DefaultMaxBytes   = 256 << 20
)

// Entry is one stored response.
type Entry struct {
	// Owner is the key hash of the key that made it ("" for the master key or with auth off).
	Owner    string
	Response []byte
	Input    []json.RawMessage
	// Conversation is the whole conversation up to and including this response, in chat messages,
	// without instructions: what a request naming it as previous_response_id continues.
	Conversation []json.RawMessage
	Output       []json.RawMessage
	// Upstream, for a response passed through to OpenAI or Azure, is the id of the deployment
	// that keeps it; the entry then holds nothing else, and GET and DELETE go there.
	Upstream string
	expires  time.Time
	size     int64
}

// Store keeps stored responses in memory, each for the TTL, at most maxEntries of them and
// maxBytes in all; when full, the oldest go first. Every entry holds its whole conversation, so
// that one expiring never breaks a later one that continued it (a long conversation costs
// memory in proportion to the square of its turns, which the byte bound caps).
//
// Memory rather than the database: a stored conversation is an aid to a client in a session,
// not a record; it does not survive a restart, which the API's contract allows (a client gets a
// clear 400 and resends the conversation).
type Store struct {
	mu         sync.Mutex
	ttl        time.Duration
	maxEntries int
	maxBytes   int64
	now        func() time.Time
	m          map[string]*Entry
	order      []string // ids in insertion order, which is expiry order (one TTL for all)
	bytes      int64
}

// NewStore returns a store with the given bounds; zero or negative values take the defaults.
func NewStore(ttl time.Duration, maxEntries int, maxBytes int64) *Store {
	s := &Store{now: time.Now, m: map[string]*Entry{}}
	s.SetLimits(ttl, maxEntries, maxBytes)
	return s
}

// SetLimits changes the bounds (a config reload); entries beyond the new ones go at the next Put.
func (s *Store) SetLimits(ttl time.Duration, maxEntries int, maxBytes int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.ttl, s.maxEntries, s.maxBytes = ttl, maxEntries, maxBytes
	if s.ttl <= 0 {
		s.ttl = DefaultTTL
	}
	if s.maxEntries <= 0 {
		s.maxEntries = DefaultMaxEntries
	}
	if s.maxBytes <= 0 {
		s.maxBytes = DefaultMaxBytes
	}
}

// Put stores e under id. An entry larger than the whole byte bound is not kept.
func (s *Store) Put(id string, e Entry) {
	e.size = int64(len(e.Response))
	for _, list := range [][]json.RawMessage{e.Input, e.Conversation, e.Output} {
		for _, m := range list {
			e.size += int64(len(m))
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if e.size > s.maxBytes {
		return
	}
	e.expires = s.now().Add(s.ttl)
	if old, ok := s.m[id]; ok {
		s.bytes -= old.size
	} else {
		s.order = append(s.order, id)
	}
	s.m[id] = &e
	s.bytes += e.size
	s.evict()
}

// evict drops expired entries, then the oldest while a bound is exceeded. Called with mu held.
func (s *Store) evict() {
	now := s.now()
	i := 0
	for ; i < len(s.order); i++ {
		e, ok := s.m[s.order[i]]
		if ok && now.Before(e.expires) && len(s.m) <= s.maxEntries && s.bytes <= s.maxBytes {
			break
		}
		if ok {
			s.bytes -= e.size
			delete(s.m, s.order[i])
		}
	}
	if i > 0 {
		s.order = append(s.order[:0], s.order[i:]...)
	}
}

// Get returns the entry stored under id, if it has not expired.
func (s *Store) Get(id string) (Entry, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if !ok || !s.now().Before(e.expires) {
		return Entry{}, false
	}
	return *e, true
}

// Delete removes id and reports whether it was there.
func (s *Store) Delete(id string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	e, ok := s.m[id]
	if ok {
		s.bytes -= e.size
		delete(s.m, id)
		// Its place in order is skipped by evict, which finds no entry for it.
	}
	return ok
}

// Len is the number of entries held (expired ones not yet dropped included).
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.m)
}

// Item finds an output or input item by id, for item_reference. The gateway's item ids name
// their response (msg_X, rs_X, fc_X_n for resp_X), so no index is needed.
func (s *Store) Item(id string) (owner string, item json.RawMessage, ok bool) {
	_, rest, found := strings.Cut(id, "_")
	if !found {
		return "", nil, false
	}
	resp, _, _ := strings.Cut(rest, "_")
	e, ok := s.Get("resp_" + resp)
	if !ok {
		return "", nil, false
	}
	needle, _ := json.Marshal(id)
	for _, list := range [][]json.RawMessage{e.Output, e.Input} {
		for _, it := range list {
			var head struct {
				ID json.RawMessage `json:"id"`
			}
			if json.Unmarshal(it, &head) == nil && bytes.Equal(head.ID, needle) {
				return e.Owner, it, true
			}
		}
	}
	return "", nil, false
}
