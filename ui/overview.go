package ui

import (
	"context"
	"fmt"
	"image/color"
	"strings"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"github.com/clawgate/clawgate/app"
)

// overviewService sums the spend log over time (*app.App implements it); off the Fyne goroutine.
type overviewService interface {
	Overview(ctx context.Context) (app.Overview, error)
}

// overviewTab shows spend today, this week and this month, and a chart of the last 30 days.
type overviewTab struct {
	svc    overviewService
	totals *widget.Label
	keys   *widget.Label
	chart  *spendChart
	last   app.Overview
	tab    *container.TabItem
}

func (rw *activityWindow) enableOverview(svc overviewService) {
	ot := &overviewTab{svc: svc, totals: widget.NewLabel(""), keys: widget.NewLabel(""), chart: newSpendChart()}
	ot.totals.TextStyle.Bold = true
	ot.totals.Wrapping = fyne.TextWrapWord
	ot.keys.Wrapping = fyne.TextWrapWord
	rw.overview = ot
	ot.tab = container.NewTabItem("Overview", container.NewBorder(
		container.NewPadded(ot.totals), container.NewPadded(ot.keys), nil, nil, container.NewPadded(ot.chart.object())))
	rw.tabs.Append(ot.tab)
	prev := rw.tabs.OnSelected
	rw.tabs.OnSelected = func(ti *container.TabItem) {
		if prev != nil {
			prev(ti)
		}
		if ti == ot.tab && rw.visible {
			rw.refresh()
		}
	}
}

// wanted reports whether the next read should sum the log: only while the tab is in view.
func (ot *overviewTab) wanted(rw *activityWindow) bool { return rw.tabs.Selected() == ot.tab }

// show puts a read on screen; Fyne goroutine.
func (ot *overviewTab) show(o app.Overview, err error) {
	if err != nil {
		ot.totals.SetText("Could not sum the spend log: " + err.Error())
		return
	}
	ot.last = o
	rate := "no requests"
	if o.Requests > 0 {
		rate = fmt.Sprintf("%s, %.1f%% failed", plural(int(o.Requests), "request"), 100*float64(o.Failures)/float64(o.Requests))
	}
	ot.totals.SetText(fmt.Sprintf("Today %s   ·   This week %s   ·   This month %s   ·   Last %d days: %s",
		usd(o.Today.Spend), usd(o.Week.Spend), usd(o.Month.Spend), app.OverviewDays, rate))
	var top []string
	for _, k := range o.TopKeys {
		top = append(top, k.Name+" "+usd(k.Spend))
	}
	if len(top) == 0 {
		ot.keys.SetText("Top keys: none yet.")
	} else {
		ot.keys.SetText("Top keys over " + fmt.Sprint(app.OverviewDays) + " days: " + strings.Join(top, "   ·   "))
	}
	ot.chart.set(o)
}

// seriesColours tell the chart's models apart on light and dark backgrounds alike (mid-tone hues
// that keep 3:1 against both white and Fyne's dark background, as WCAG asks of graphics).
var seriesColours = []color.NRGBA{
	{0x1f, 0x77, 0xb4, 0xff}, // blue
	{0xd6, 0x5f, 0x0e, 0xff}, // orange
	{0x2c, 0x8a, 0x2c, 0xff}, // green
	{0xb0, 0x3a, 0x8f, 0xff}, // magenta
	{0x8c, 0x6d, 0x31, 0xff}, // brown
	{0x17, 0x8f, 0x9c, 0xff}, // teal
	{0x7f, 0x7f, 0x7f, 0xff}, // grey: "other"
}

// spendChart draws spend per day as bars stacked by model, with a legend; plain canvas objects.
type spendChart struct {
	o      app.Overview
	plot   *fyne.Container
	legend *fyne.Container
	max    *widget.Label
	days   *fyne.Container
}

func newSpendChart() *spendChart {
	c := &spendChart{max: widget.NewLabel("")}
	c.plot = container.New(&barsLayout{c: c})
	c.legend = container.NewHBox()
	c.days = container.New(&dayLabelsLayout{c: c})
	return c
}

func (c *spendChart) object() fyne.CanvasObject {
	return container.NewBorder(c.max, container.NewVBox(c.days, container.NewHScroll(c.legend)), nil, nil, c.plot)
}

// set redraws the chart for o; Fyne goroutine.
func (c *spendChart) set(o app.Overview) {
	c.o = o
	var objs []fyne.CanvasObject
	top := 0.0
	for _, d := range o.Days {
		top = max(top, d.Total)
		for i := range d.ByModel {
			r := canvas.NewRectangle(seriesColours[min(i, len(seriesColours)-1)])
			objs = append(objs, r)
		}
	}
	// Widgets, not canvas objects with a colour of their own, so both follow a change of theme.
	c.plot.Objects = append(objs, widget.NewSeparator())
	if top == 0 {
		c.max.SetText("No spend in the last " + fmt.Sprint(app.OverviewDays) + " days.")
	} else {
		c.max.SetText("Spend per day (highest " + usd(top) + ")")
	}
	c.legend.Objects = nil
	for i, m := range o.Models {
		sw := canvas.NewRectangle(seriesColours[min(i, len(seriesColours)-1)])
		sw.SetMinSize(fyne.NewSquareSize(theme.TextSize()))
		c.legend.Objects = append(c.legend.Objects, container.NewCenter(sw), widget.NewLabel(m))
	}
	c.days.Objects = nil
	for i, d := range o.Days {
		if i%5 == 0 || i == len(o.Days)-1 {
			l := widget.NewLabel(d.Day.Format("Jan 2"))
			l.SizeName = theme.SizeNameCaptionText
			c.days.Objects = append(c.days.Objects, l)
		}
	}
	c.plot.Refresh()
	c.legend.Refresh()
	c.days.Refresh()
}

// barsLayout places the rectangles: one column per day, each model's share stacked bottom up.
type barsLayout struct{ c *spendChart }

func (l *barsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	o := l.c.o
	if len(o.Days) == 0 || len(objs) == 0 {
		return
	}
	top := 0.0
	for _, d := range o.Days {
		top = max(top, d.Total)
	}
	slot := size.Width / float32(len(o.Days))
	bar := slot * 0.7
	i := 0
	for di, d := range o.Days {
		y := size.Height
		for _, v := range d.ByModel {
			h := float32(0)
			if top > 0 {
				h = float32(v/top) * (size.Height - 1)
			}
			r := objs[i]
			r.Move(fyne.NewPos(float32(di)*slot+(slot-bar)/2, y-h))
			r.Resize(fyne.NewSize(bar, h))
			y -= h
			i++
		}
	}
	axis := objs[len(objs)-1]
	axis.Move(fyne.NewPos(0, size.Height))
	axis.Resize(fyne.NewSize(size.Width, theme.SeparatorThicknessSize()))
}

func (l *barsLayout) MinSize([]fyne.CanvasObject) fyne.Size { return fyne.NewSize(300, 160) }

// dayLabelsLayout puts each date under its day's column.
type dayLabelsLayout struct{ c *spendChart }

func (l *dayLabelsLayout) Layout(objs []fyne.CanvasObject, size fyne.Size) {
	n := len(l.c.o.Days)
	if n == 0 {
		return
	}
	slot := size.Width / float32(n)
	j := 0
	for i := range l.c.o.Days {
		if i%5 == 0 || i == n-1 {
			if j >= len(objs) {
				return
			}
			x := float32(i)*slot + slot/2 - objs[j].MinSize().Width/2
			objs[j].Move(fyne.NewPos(max(0, min(x, size.Width-objs[j].MinSize().Width)), 0))
			objs[j].Resize(objs[j].MinSize())
			j++
		}
	}
}

func (l *dayLabelsLayout) MinSize(objs []fyne.CanvasObject) fyne.Size {
	h := float32(0)
	for _, o := range objs {
		h = max(h, o.MinSize().Height)
	}
	return fyne.NewSize(0, h)
}
