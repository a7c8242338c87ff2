package store

import (
	"encoding/json"
	"fmt"
	"sort"
	"unicode/utf8"
)

// Caps on what one spend row stores. A request's own fields (its user, the model name it sends)
// and the error text an upstream returns are chosen by others: uncapped, any key could grow the
// database by megabytes a call. What a cap cuts is marked, never silently dropped.
const (
	maxNameLen  = 512     // user, end_user, key_alias, model, model_group, model_id, provider, api_base, ...
	maxErrorLen = 4 << 10 // error text
	maxMetadata = 16 << 10
)

// clip applies the caps to l. The request id is the gateway's own and left alone: cutting it could
// make two rows one.
func (l *SpendLog) clip() {
	for _, f := range []*string{&l.ResponseID, &l.CallType, &l.APIKey, &l.KeyAlias, &l.Model, &l.ModelGroup,
		&l.ModelID, &l.Provider, &l.APIBase, &l.User, &l.EndUser, &l.Status} {
		*f = clipString(*f, maxNameLen)
	}
	l.Error = clipString(l.Error, maxErrorLen)
	l.Metadata = clipMetadata(l.Metadata, maxMetadata)
}

// clipString cuts s to at most n bytes, on a rune boundary, saying how much went.
func clipString(s string, n int) string {
	if len(s) <= n {
		return s
	}
	note := fmt.Sprintf("…[%d bytes cut]", len(s))
	end := max(n-len(note), 0)
	for end > 0 && !utf8.RuneStart(s[end]) {
		end--
	}
	return s[:end] + note
}

// clipMetadata keeps metadata's entries, smallest first, while their JSON fits in n bytes, and
// names the entries it left out under "clawgate_dropped".
func clipMetadata(md map[string]any, n int) map[string]any {
	if md == nil {
		return nil
	}
	size := map[string]int{}
	total := 2
	for k, v := range md {
		b, err := json.Marshal(v)
		if err != nil {
			return md // a row that cannot be encoded is the writer's to repair
		}
		size[k] = len(k) + len(b) + 4 // quotes, colon, comma
		total += size[k]
	}
	if total <= n {
		return md
	}
	keys := make([]string, 0, len(md))
	for k := range md {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if size[keys[i]] != size[keys[j]] {
			return size[keys[i]] < size[keys[j]]
		}
		return keys[i] < keys[j]
	})
	out := make(map[string]any, len(md))
	var dropped []string
	used := 2 + 1024 // room for the note itself
	for _, k := range keys {
		if used+size[k] > n || len(dropped) > 0 {
			dropped = append(dropped, clipString(k, 64))
			continue
		}
		out[k] = md[k]
		used += size[k]
	}
	if len(dropped) > 8 {
		dropped = append(dropped[:8], fmt.Sprintf("and %d more", len(dropped)-8))
	}
	out["clawgate_dropped"] = fmt.Sprintf("metadata over %d bytes: left out %q", n, dropped)
	return out
}
