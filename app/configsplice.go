package app

import (
	"bytes"
	"strings"

	"go.yaml.in/yaml/v3"
)

// The line splice: an edit of model_list rewrites only the lines of the entry it changes, from the
// entry's yaml.Node in the file's own nesting, so everything else in config.yaml stays byte for byte.

// encodeItem is an entry's text as a block sequence item at indent ("  " for "  - model_name: ..."),
// its mappings nested by step spaces.
func encodeItem(item *yaml.Node, indent string, step int) ([]string, error) {
	c := copyNode(item)
	// Comments above the entry and after it at the list's level stay where they are in the file:
	// the splice leaves those lines alone, so the encoder must not write them a second time.
	c.HeadComment, c.FootComment = "", ""
	if len(c.Content) > 0 {
		c.Content[0].HeadComment = ""
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(step)
	if err := enc.Encode(c); err != nil {
		return nil, err
	}
	lines := strings.Split(strings.TrimRight(buf.String(), "\n"), "\n")
	for i, l := range lines {
		switch {
		case i == 0:
			lines[i] = indent + "- " + l
		case l == "":
		default:
			lines[i] = indent + "  " + l
		}
	}
	return lines, nil
}

// itemSpan is the lines (0-based, end exclusive) an entry's own text takes, and its dash's indent.
func (f *configFile) itemSpan(item *yaml.Node) (start, end int, indent string) {
	start = item.Line - 1
	line := f.lines[start]
	col := item.Column - 1
	if col > len(line) {
		col = len(line)
	}
	if i := strings.LastIndex(line[:col], "-"); i >= 0 && strings.TrimSpace(line[:i]) == "" {
		indent = line[:i]
	} else if start > 0 && strings.TrimSpace(f.lines[start-1]) == "-" { // "-" alone on its line
		start--
		indent = f.lines[start][:strings.Index(f.lines[start], "-")]
	}
	end = lastLine(item)
	// Comment lines after the last value and indented under the entry are its own (yaml.v3 hangs
	// them on its last key as a foot comment): they belong to its span, blank lines between too.
	for j := end; j < len(f.lines); j++ {
		t := strings.TrimSpace(f.lines[j])
		if t == "" {
			continue
		}
		if !strings.HasPrefix(t, "#") || len(f.lines[j])-len(strings.TrimLeft(f.lines[j], " ")) <= len(indent) {
			break
		}
		end = j + 1
	}
	return start, end, indent
}

// nestStep is how far the file nests a mapping inside an entry (2 unless it shows otherwise).
func nestStep(item *yaml.Node) int {
	for i := 0; i+1 < len(item.Content); i += 2 {
		k, v := item.Content[i], item.Content[i+1]
		if v.Kind == yaml.MappingNode && len(v.Content) > 0 && v.Content[0].Column > k.Column {
			return v.Content[0].Column - k.Column
		}
	}
	return 2
}

func (f *configFile) splice(start, end int, with []string) []byte {
	out := append([]string{}, f.lines[:start]...)
	out = append(out, with...)
	out = append(out, f.lines[end:]...)
	return []byte(strings.Join(out, "\n"))
}

// blockItems reports whether model_list is a block sequence the splice can edit line by line.
func (f *configFile) blockItems() bool {
	_, seq := f.items()
	return seq != nil && seq.Kind == yaml.SequenceNode && seq.Style&yaml.FlowStyle == 0 && len(seq.Content) > 0
}

// replaceItem applies edit to entry index's node and rewrites the entry's lines from it. The
// lines are measured before the edit: an edited value no longer knows where it was written.
func (f *configFile) replaceItem(index int, edit func(item *yaml.Node)) ([]byte, error) {
	items, _ := f.items()
	if !f.blockItems() {
		edit(items[index])
		return f.whole()
	}
	start, end, indent := f.itemSpan(items[index])
	edit(items[index])
	lines, err := encodeItem(items[index], indent, nestStep(items[index]))
	if err != nil {
		return nil, err
	}
	// A line the edit did not change keeps its own spacing (aligned comments, say).
	was := map[string]string{}
	for _, l := range f.lines[start:end] {
		was[squeeze(l)] = l
	}
	for i, l := range lines {
		if old, ok := was[squeeze(l)]; ok {
			lines[i] = old
		}
	}
	return f.splice(start, end, lines), nil
}

// squeeze is a line with its runs of inner spaces made one, its indent kept.
func squeeze(l string) string {
	body := strings.TrimLeft(l, " ")
	return l[:len(l)-len(body)] + strings.Join(strings.Fields(body), " ")
}

// removeItem deletes the lines of entry index.
func (f *configFile) removeItem(index int) ([]byte, error) {
	if !f.blockItems() {
		_, seq := f.items()
		seq.Content = append(seq.Content[:index], seq.Content[index+1:]...)
		return f.whole()
	}
	items, _ := f.items()
	start, end, _ := f.itemSpan(items[index])
	if len(items) == 1 {
		// The list would be empty: say so in the file rather than leave "model_list:" null.
		k, _ := value(f.top(), "model_list")
		keyLine := k.Line - 1
		out := f.splice(start, end, nil)
		lines := strings.Split(string(out), "\n")
		lines[keyLine] = strings.TrimRight(lines[keyLine], " ") + " []"
		return []byte(strings.Join(lines, "\n")), nil
	}
	return f.splice(start, end, nil), nil
}

// appendItem adds an entry after the last one (or starts model_list).
func (f *configFile) appendItem(item *yaml.Node) ([]byte, error) {
	items, seq := f.items()
	switch {
	case f.blockItems():
		last := items[len(items)-1]
		_, end, indent := f.itemSpan(last)
		lines, err := encodeItem(item, indent, nestStep(last))
		if err != nil {
			return nil, err
		}
		return f.splice(end, end, lines), nil
	case seq != nil && len(items) > 0: // a flow list: edit the tree and write it whole
		seq.Content = append(seq.Content, item)
		return f.whole()
	}
	lines, err := encodeItem(item, "  ", 2)
	if err != nil {
		return nil, err
	}
	k, _ := value(f.top(), "model_list")
	if k == nil { // no model_list yet: it goes at the end
		text := strings.TrimRight(string(f.raw), "\n")
		if text != "" {
			text += "\n\n"
		}
		return []byte(text + "model_list:\n" + strings.Join(lines, "\n") + "\n"), nil
	}
	// "model_list:" with nothing or [] after it: the key's line starts the block.
	at := k.Line - 1
	line := f.lines[at]
	head := line[:strings.Index(line, "model_list")] + "model_list:"
	return f.splice(at, at+1, append([]string{head}, lines...)), nil
}

// whole re-encodes the file from its tree: for layouts the line splice does not handle (a flow
// list). yaml.v3 keeps the comments; blank lines and flow style are lost.
func (f *configFile) whole() ([]byte, error) {
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(f.root); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}
