//go:build ignore

// Command traycheck stands in for a desktop's tray host so the tray smoke test can see what a user
// would see. It owns org.kde.StatusNotifierWatcher on the session bus, waits for an app to register
// its StatusNotifierItem, and prints the item's icon, tooltip and menu (read over com.canonical.dbusmenu):
//
//	icon 64x64 #1f9d55
//	tooltip Clawgate: Gateway running on 127.0.0.1:4000 | Today $0.00
//	Gateway running on 127.0.0.1:4000 (disabled)
//	Models
//	Models > gpt-4o (disabled)
//	---
//	Quit
//
// With -click LABEL it then clicks that item, as a user would (items are found by label, or by a path such as
// "OpenClaw > gpt-4o-mini": their ids change on every refresh). -click may be repeated: after each click but the last it waits for the
// menu to change and settle, and prints it again under "== after clicking LABEL". A checked item
// is printed with " (checked)".
// With -observe it owns nothing: a real tray host (status-notifier-watcher) runs, and traycheck reads
// the item that host holds for the process -pid. With -until-icon COLOUR it first waits until the
// icon's main colour is COLOUR (the tray's state changed). With -until-line TEXT (repeatable) it waits
// until the settled menu has each such line, as printed (parts of the menu, such as the spend line,
// may follow the icon).
// Build it with: go build -o bin/traycheck scripts/traycheck/main.go
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"
	"reflect"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
	"github.com/godbus/dbus/v5/prop"
)

const (
	watcherName  = "org.kde.StatusNotifierWatcher"
	watcherPath  = "/StatusNotifierWatcher"
	watcherIface = "org.kde.StatusNotifierWatcher"
	itemIface    = "org.kde.StatusNotifierItem"
	menuIface    = "com.canonical.dbusmenu"
)

// watcher implements the two methods of the watcher interface that items and hosts call.
type watcher struct {
	items chan string // "sender/path" of each registered item
}

func (w *watcher) RegisterStatusNotifierItem(sender dbus.Sender, service string) *dbus.Error {
	// Items pass either their object path (then the sender is the bus name) or a bus name.
	if strings.HasPrefix(service, "/") {
		w.items <- string(sender) + service
	} else {
		w.items <- service + "/StatusNotifierItem"
	}
	return nil
}

func (w *watcher) RegisterStatusNotifierHost(string) *dbus.Error { return nil }

type entry struct {
	id       int32
	label    string
	enabled  bool
	checked  bool
	sep      bool
	children []entry
}

// labels collects repeated -click flags.
type labels []string

func (l *labels) String() string     { return strings.Join(*l, ", ") }
func (l *labels) Set(v string) error { *l = append(*l, v); return nil }

func main() {
	timeout := flag.Duration("timeout", 60*time.Second, "how long to wait for an item and a settled menu")
	var clicks labels
	flag.Var(&clicks, "click", "label of a menu item to click after printing (repeatable)")
	flag.BoolVar(&observe, "observe", false, "read the item from the running tray host instead of being the host")
	flag.IntVar(&wantPID, "pid", 0, "with -observe, the process whose item to read")
	flag.StringVar(&untilIcon, "until-icon", "", "wait until the icon's main colour is this (#rrggbb) before printing")
	flag.Var(&untilLines, "until-line", "wait until the menu has this line, as printed (repeatable)")
	flag.Parse()
	if err := run(*timeout, clicks); err != nil {
		fmt.Fprintln(os.Stderr, "traycheck:", err)
		os.Exit(1)
	}
}

var (
	observe    bool
	wantPID    int
	untilIcon  string
	untilLines labels
)

func run(timeout time.Duration, clicks []string) error {
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return fmt.Errorf("session bus: %w", err)
	}
	defer conn.Close()
	deadline := time.After(timeout)
	var item string
	if observe {
		if item, err = registered(conn, deadline, timeout); err != nil {
			return err
		}
	} else if item, err = host(conn, deadline, timeout); err != nil {
		return err
	}
	dest, path, _ := strings.Cut(item, "/")
	obj := conn.Object(dest, dbus.ObjectPath("/"+path))

	menuPathV, err := obj.GetProperty(itemIface + ".Menu")
	if err != nil {
		return fmt.Errorf("item Menu property: %w", err)
	}
	menuPath, _ := menuPathV.Value().(dbus.ObjectPath)
	menu := conn.Object(dest, menuPath)

	if untilIcon != "" {
		for {
			icon, err := iconSummary(obj)
			if err != nil {
				return err
			}
			if strings.HasSuffix(icon, untilIcon) {
				break
			}
			select {
			case <-deadline:
				return fmt.Errorf("the icon is still %s after %v, want %s", icon, timeout, untilIcon)
			case <-time.After(200 * time.Millisecond):
			}
		}
	}
	return show(obj, menu, deadline, timeout, clicks)
}

// registered waits until the running tray host lists an item of the process wantPID (any item
// when 0) and returns it as "busname/path".
func registered(conn *dbus.Conn, deadline <-chan time.Time, timeout time.Duration) (string, error) {
	w := conn.Object(watcherName, watcherPath)
	for {
		v, err := w.GetProperty(watcherIface + ".RegisteredStatusNotifierItems")
		if err == nil {
			items, _ := v.Value().([]string)
			for _, it := range items {
				// Hosts list "busname/path", or the bare bus name for the default path.
				dest, path, ok := strings.Cut(it, "/")
				if !ok {
					path = "StatusNotifierItem"
				}
				var pid uint32
				if wantPID != 0 {
					if err := conn.BusObject().Call("org.freedesktop.DBus.GetConnectionUnixProcessID", 0, dest).Store(&pid); err != nil || int(pid) != wantPID {
						continue
					}
				}
				return dest + "/" + path, nil
			}
		}
		select {
		case <-deadline:
			return "", fmt.Errorf("the tray host listed no item of process %d within %v (last error: %v)", wantPID, timeout, err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// host is the stand-in tray host: it owns the watcher's name and waits for an item to register.
func host(conn *dbus.Conn, deadline <-chan time.Time, timeout time.Duration) (string, error) {
	w := &watcher{items: make(chan string, 4)}
	if err := conn.Export(w, watcherPath, watcherIface); err != nil {
		return "", fmt.Errorf("export watcher: %w", err)
	}
	if _, err := prop.Export(conn, watcherPath, map[string]map[string]*prop.Prop{watcherIface: {
		"RegisteredStatusNotifierItems":  {Value: []string{}, Emit: prop.EmitFalse},
		"IsStatusNotifierHostRegistered": {Value: true, Emit: prop.EmitFalse},
		"ProtocolVersion":                {Value: int32(0), Emit: prop.EmitFalse},
	}}); err != nil {
		return "", fmt.Errorf("export watcher properties: %w", err)
	}
	reply, err := conn.RequestName(watcherName, dbus.NameFlagDoNotQueue)
	if err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		return "", fmt.Errorf("own %s: reply %v, %v", watcherName, reply, err)
	}
	fmt.Fprintln(os.Stderr, "traycheck: watching for a tray item")
	select {
	case item := <-w.items:
		return item, nil
	case <-deadline:
		return "", fmt.Errorf("no StatusNotifierItem registered within %v", timeout)
	}
}

// show prints the item's icon, tooltip and settled menu, then makes the clicks.
func show(obj, menu dbus.BusObject, deadline <-chan time.Time, timeout time.Duration, clicks []string) error {
	// The menu settles after a refresh or two (systray serves one level on the first call, and the app
	// may rebuild it as its status arrives): read until two reads in a row agree.
	cur, err := settle(menu, nil, deadline, timeout)
	if err != nil {
		return err
	}

	icon, err := iconSummary(obj)
	if err != nil {
		return err
	}
	fmt.Println("icon " + icon)
	tip, err := tooltipTitle(obj)
	if err != nil {
		return err
	}
	fmt.Println("tooltip " + strings.ReplaceAll(tip, "\n", " | "))
	for _, line := range render(cur, "") {
		fmt.Println(line)
	}

	for i, click := range clicks {
		id, ok := find(cur, click)
		if !ok {
			return fmt.Errorf("no menu item %q to click", click)
		}
		call := menu.Call(menuIface+".Event", 0, id, "clicked", dbus.MakeVariant(""), uint32(time.Now().Unix()))
		var derr dbus.Error
		if call.Err != nil && click == "Quit" && i == len(clicks)-1 && errors.As(call.Err, &derr) && derr.Name == "org.freedesktop.DBus.Error.NoReply" {
			// Quit can end the app before its reply to the click is sent; whether it exits, and
			// with what status, is the caller's to check.
			fmt.Fprintf(os.Stderr, "traycheck: clicked %q (the app left the bus before replying)\n", click)
			break
		}
		if call.Err != nil {
			return fmt.Errorf("click %q: %w", click, call.Err)
		}
		fmt.Fprintf(os.Stderr, "traycheck: clicked %q\n", click)
		if i == len(clicks)-1 {
			break // the last click may end the app (Quit): nothing more to read
		}
		if cur, err = settle(menu, cur, deadline, timeout); err != nil {
			return fmt.Errorf("after clicking %q: %w", click, err)
		}
		fmt.Println("== after clicking " + click)
		for _, line := range render(cur, "") {
			fmt.Println(line)
		}
	}
	return nil
}

// settle reads the menu until two reads 300 ms apart show the same thing and, when before is set,
// something other than before (compared as rendered: ids change on every refresh).
func settle(menu dbus.BusObject, before []entry, deadline <-chan time.Time, timeout time.Duration) ([]entry, error) {
	was := strings.Join(render(before, ""), "\n")
	var prev []entry
	for {
		cur, err := layout(menu)
		if err != nil {
			return nil, err
		}
		shown := strings.Join(render(cur, ""), "\n")
		if prev != nil && len(cur) > 0 && shown == strings.Join(render(prev, ""), "\n") && (before == nil || shown != was) &&
			(before != nil || hasLines(cur, untilLines)) {
			return cur, nil
		}
		prev = cur
		select {
		case <-deadline:
			if before != nil {
				return nil, fmt.Errorf("menu did not change within %v; it shows:\n%s", timeout, shown)
			}
			if !hasLines(cur, untilLines) {
				return nil, fmt.Errorf("menu still lacks one of the lines %q after %v; it shows:\n%s", []string(untilLines), timeout, shown)
			}
			return nil, fmt.Errorf("menu did not settle within %v", timeout)
		case <-time.After(300 * time.Millisecond):
		}
	}
}

// hasLines reports whether the menu, as printed, has every one of lines.
func hasLines(menu []entry, lines []string) bool {
	shown := render(menu, "")
	for _, l := range lines {
		if !slices.Contains(shown, l) {
			return false
		}
	}
	return true
}

func layout(menu dbus.BusObject) ([]entry, error) {
	call := menu.Call(menuIface+".GetLayout", 0, int32(0), int32(-1), []string{})
	if call.Err != nil {
		return nil, fmt.Errorf("GetLayout: %w", call.Err)
	}
	if len(call.Body) != 2 {
		return nil, fmt.Errorf("GetLayout returned %d values", len(call.Body))
	}
	root, err := parse(call.Body[1])
	if err != nil {
		return nil, err
	}
	return root.children, nil
}

// parse reads one (ia{sv}av) layout node.
func parse(v any) (entry, error) {
	fields, ok := v.([]any)
	if !ok || len(fields) != 3 {
		return entry{}, fmt.Errorf("unexpected layout node %T", v)
	}
	e := entry{enabled: true}
	e.id, _ = fields[0].(int32)
	props, _ := fields[1].(map[string]dbus.Variant)
	if l, ok := props["label"]; ok {
		e.label, _ = l.Value().(string)
	}
	if en, ok := props["enabled"]; ok {
		e.enabled, _ = en.Value().(bool)
	}
	if ts, ok := props["toggle-state"]; ok {
		// An int32 on the wire; read any integer kind.
		if rv := reflect.ValueOf(ts.Value()); rv.CanInt() {
			e.checked = rv.Int() == 1
		}
	}
	if t, ok := props["type"]; ok {
		typ, _ := t.Value().(string)
		e.sep = typ == "separator"
	}
	// systray hides items with "visible": false instead of removing them.
	if vis, ok := props["visible"]; ok {
		if b, _ := vis.Value().(bool); !b {
			return entry{}, nil
		}
	}
	kids, _ := fields[2].([]dbus.Variant)
	for _, k := range kids {
		c, err := parse(k.Value())
		if err != nil {
			return entry{}, err
		}
		if c.id != 0 || c.label != "" || c.sep {
			e.children = append(e.children, c)
		}
	}
	return e, nil
}

func render(es []entry, prefix string) []string {
	var out []string
	for _, e := range es {
		if e.sep {
			out = append(out, prefix+"---")
			continue
		}
		line := prefix + e.label
		if !e.enabled {
			line += " (disabled)"
		}
		if e.checked {
			line += " (checked)"
		}
		out = append(out, line)
		out = append(out, render(e.children, prefix+e.label+" > ")...)
	}
	return out
}

// find returns the id of the first item labelled label, or of the item at a path such as
// "OpenClaw > gpt-4o-mini" (the same label may be in two submenus).
func find(es []entry, label string) (int32, bool) {
	if first, rest, ok := strings.Cut(label, " > "); ok {
		for _, e := range es {
			if e.label == first && !e.sep {
				if id, ok := find(e.children, rest); ok {
					return id, true
				}
			}
		}
	}
	for _, e := range es {
		if e.label == label && !e.sep {
			return e.id, true
		}
		if id, ok := find(e.children, label); ok {
			return id, true
		}
	}
	return 0, false
}

// tooltipTitle reads the item's ToolTip property (icon name, icon pixmaps, title, description) and
// returns its title, the text a tray host shows on hover.
func tooltipTitle(obj dbus.BusObject) (string, error) {
	v, err := obj.GetProperty(itemIface + ".ToolTip")
	if err != nil {
		return "", fmt.Errorf("item ToolTip property: %w", err)
	}
	var tip struct {
		Name   string
		Pixmap []struct {
			W, H int32
			Data []byte
		}
		Title, Description string
	}
	if err := dbus.Store([]any{v.Value()}, &tip); err != nil {
		return "", fmt.Errorf("decode ToolTip: %w", err)
	}
	return tip.Title, nil
}

// iconSummary reads IconPixmap (ARGB32, network byte order) and reports the largest pixmap's size and
// its most common opaque colour, which tells the tray's state icons apart.
func iconSummary(obj dbus.BusObject) (string, error) {
	v, err := obj.GetProperty(itemIface + ".IconPixmap")
	if err != nil {
		return "", fmt.Errorf("item IconPixmap property: %w", err)
	}
	var pixmaps []struct {
		W, H int32
		Data []byte
	}
	if err := dbus.Store([]any{v.Value()}, &pixmaps); err != nil {
		return "", fmt.Errorf("decode IconPixmap: %w", err)
	}
	if len(pixmaps) == 0 {
		return "", fmt.Errorf("the item has no icon")
	}
	sort.Slice(pixmaps, func(i, j int) bool { return pixmaps[i].W > pixmaps[j].W })
	p := pixmaps[0]
	counts := map[[3]byte]int{}
	for i := 0; i+3 < len(p.Data); i += 4 {
		if p.Data[i] == 0xff {
			counts[[3]byte{p.Data[i+1], p.Data[i+2], p.Data[i+3]}]++
		}
	}
	var best [3]byte
	for c, n := range counts {
		if n > counts[best] {
			best = c
		}
	}
	return fmt.Sprintf("%dx%d #%02x%02x%02x", p.W, p.H, best[0], best[1], best[2]), nil
}
