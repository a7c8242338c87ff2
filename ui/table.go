package ui

import (
	"image/color"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"
)

// itemTable is a table of text whose selection belongs to an item, not to a row number: each row
// carries its item's key, and when new rows replace the old ones the highlight moves to wherever
// the selected item now is (or goes away with it). Fyne's Table alone keeps the row number, so a
// refresh that put a new request at the top left the highlight on a neighbour while the detail
// pane and the buttons still meant the old item.
type itemTable struct {
	table    *widget.Table
	headings []string
	// stretch marks the columns that take the width left over in a wide window (names, errors).
	stretch []bool
	rows    [][]string
	keys    []string
	// selected is the selected item's key; "" when nothing is selected.
	selected string
	// onSelect is told the selected row (an index into the last setRows), -1 when none.
	onSelect func(row int)

	widths  []float32 // natural width of each column: its widest text
	laidFor float32   // the width the columns were last spread over
}

func newItemTable(headings []string, stretch []bool, onSelect func(row int)) *itemTable {
	it := &itemTable{headings: headings, stretch: stretch, onSelect: onSelect}
	t := widget.NewTableWithHeaders(
		func() (int, int) { return len(it.rows), len(headings) },
		func() fyne.CanvasObject {
			l := widget.NewLabel("")
			l.Truncation = fyne.TextTruncateEllipsis // a long model or error stays in its column
			// Fyne marks one cell; the backdrop marks the rest of the selected row.
			return container.NewStack(canvas.NewRectangle(color.Transparent), l)
		},
		func(id widget.TableCellID, o fyne.CanvasObject) {
			if id.Row >= len(it.rows) {
				return
			}
			c := o.(*fyne.Container)
			bg := c.Objects[0].(*canvas.Rectangle)
			want := color.Color(color.Transparent)
			if it.selected != "" && it.keys[id.Row] == it.selected {
				want = theme.Color(theme.ColorNameSelection)
			}
			if bg.FillColor != want {
				bg.FillColor = want
				bg.Refresh()
			}
			c.Objects[1].(*widget.Label).SetText(it.rows[id.Row][id.Col])
		})
	t.ShowHeaderColumn = false
	t.CreateHeader = func() fyne.CanvasObject {
		return widget.NewLabelWithStyle("", fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	}
	t.UpdateHeader = func(id widget.TableCellID, o fyne.CanvasObject) {
		if id.Col >= 0 {
			o.(*widget.Label).SetText(headings[id.Col])
		}
	}
	t.OnSelected = func(id widget.TableCellID) {
		if id.Row < 0 || id.Row >= len(it.keys) {
			return
		}
		if k := it.keys[id.Row]; k != it.selected {
			it.selected = k
			it.table.Refresh() // move the row's backdrop
		}
		if it.onSelect != nil {
			it.onSelect(id.Row)
		}
	}
	it.table = t
	it.measure()
	return it
}

// object is what goes in a window: the table, with its columns spread over the width it is given.
func (it *itemTable) object() fyne.CanvasObject {
	return container.New(&spreadLayout{it}, it.table)
}

// setRows shows new rows, keys[i] naming row i's item, and keeps the selection on its item; call
// on the Fyne goroutine.
func (it *itemTable) setRows(rows [][]string, keys []string) {
	it.rows, it.keys = rows, keys
	it.measure()
	it.spread(it.laidFor, true)
	it.table.Refresh()
	if it.selected == "" {
		return
	}
	for i, k := range keys {
		if k == it.selected {
			// Select moves the highlight (and scrolls to it only if it left the view); it does
			// nothing when the row did not move, and the item's data may have changed anyway.
			it.table.Select(widget.TableCellID{Row: i, Col: 0})
			if it.onSelect != nil {
				it.onSelect(i)
			}
			return
		}
	}
	it.unselect() // the item is gone
}

// selectKey selects the item with key k, if it is listed.
func (it *itemTable) selectKey(k string) {
	for i, key := range it.keys {
		if key == k {
			it.table.Select(widget.TableCellID{Row: i, Col: 0})
			return
		}
	}
}

func (it *itemTable) unselect() {
	it.selected = ""
	it.table.UnselectAll()
	it.table.Refresh()
	if it.onSelect != nil {
		it.onSelect(-1)
	}
}

// selectedRow is the row of the selected item, -1 when none.
func (it *itemTable) selectedRow() int {
	for i, k := range it.keys {
		if it.selected != "" && k == it.selected {
			return i
		}
	}
	return -1
}

// maxNatural caps a column's natural width: a long error should not push the others out of view
// (the row's detail shows it in full).
const maxNatural = 520

// measure finds each column's natural width: its heading's or its widest cell's.
func (it *itemTable) measure() {
	size, pad := theme.TextSize(), 2*theme.InnerPadding()+theme.Padding()
	it.widths = make([]float32, len(it.headings))
	for c, h := range it.headings {
		it.widths[c] = fyne.MeasureText(h, size, fyne.TextStyle{Bold: true}).Width + pad
	}
	for _, r := range it.rows {
		for c, cell := range r {
			if w := fyne.MeasureText(cell, size, fyne.TextStyle{}).Width + pad; w > it.widths[c] {
				it.widths[c] = min(w, maxNatural)
			}
		}
	}
}

// spread sets the column widths for a table width: natural widths, with what is left over shared by
// the stretch columns, so a maximized window shows long names and errors instead of empty space.
func (it *itemTable) spread(width float32, force bool) {
	if width == it.laidFor && !force {
		return
	}
	it.laidFor = width
	var total float32
	n := 0
	for c, w := range it.widths {
		total += w + theme.Padding() // the divider between columns
		if it.stretch[c] {
			n++
		}
	}
	extra := float32(0)
	if width > total && n > 0 {
		extra = (width - total) / float32(n)
	}
	// Too narrow: the stretch columns give up width, down to minStretch each, in proportion to
	// what they have above it (their text is cut with an ellipsis; the detail shows it whole).
	var spare float32
	for c, w := range it.widths {
		if it.stretch[c] && w > minStretch {
			spare += w - minStretch
		}
	}
	shrink := float32(0)
	if width > 0 && total > width && spare > 0 {
		shrink = min(1, (total-width)/spare)
	}
	for c, w := range it.widths {
		if it.stretch[c] {
			w += extra
			if w > minStretch {
				w -= (w - minStretch) * shrink
			}
		}
		it.table.SetColumnWidth(c, w)
	}
}

// minStretch is the narrowest a stretch column gets before the table scrolls sideways.
const minStretch = 120

// spreadLayout gives the table all the space and re-spreads its columns when the space changes.
type spreadLayout struct{ it *itemTable }

func (l *spreadLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	l.it.spread(size.Width-theme.Padding(), false)
	for _, o := range objs {
		o.Move(fyne.NewPos(0, 0))
		o.Resize(size)
	}
}

func (l *spreadLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	return objs[0].MinSize()
}
