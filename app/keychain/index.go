package keychain

import (
	"encoding/json"
	"errors"
	"slices"

	"github.com/zalando/go-keyring"
)

// readIndex returns the names recorded in the index, valid, sorted and without duplicates, and
// whether the stored index needs rewriting (it was corrupt or held entries that were dropped).
// A missing index is an empty one.
func (s *Store) readIndex() (names []string, dirty bool, err error) {
	var raw string
	err = s.call(func() error {
		var err error
		raw, err = s.kr.Get(s.service, IndexName)
		return err
	})
	if errors.Is(err, keyring.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, classify(err)
	}
	var stored []string
	if json.Unmarshal([]byte(raw), &stored) != nil {
		// Only names are lost with a corrupt index, never secrets; start over.
		return nil, true, nil
	}
	for _, n := range stored {
		if checkName(n) == nil {
			names = append(names, n)
		}
	}
	slices.Sort(names)
	names = slices.Compact(names)
	return names, !slices.Equal(names, stored), nil
}

// updateIndex adds or removes name and writes the index back if it changed or needs repair.
// The caller holds s.mu.
func (s *Store) updateIndex(name string, add bool) error {
	names, dirty, err := s.readIndex()
	if err != nil {
		return err
	}
	i, found := slices.BinarySearch(names, name)
	switch {
	case add && !found:
		names = slices.Insert(names, i, name)
	case !add && found:
		names = slices.Delete(names, i, i+1)
	case !dirty:
		return nil
	}
	if len(names) == 0 {
		err := s.call(func() error { return s.kr.Delete(s.service, IndexName) })
		if err != nil && !errors.Is(err, keyring.ErrNotFound) {
			return classify(err)
		}
		return nil
	}
	b, err := json.Marshal(names)
	if err != nil {
		return err
	}
	if err := s.call(func() error { return s.kr.Set(s.service, IndexName, string(b)) }); err != nil {
		return classify(err)
	}
	return nil
}

func contains(names []string, name string) bool {
	_, found := slices.BinarySearch(names, name)
	return found
}
