// Command genicons draws Clawgate's app icon and tray icons into assets/.
// Run from the repository root: go run ./scripts/genicons (or make icons).
//
// The mark is three claw scratches; the tray icons put it (or a state glyph) on a coloured disc so
// the state reads at 16-22 px: green ok, amber warn, red blocked (scratches behind a gate bar),
// red error ("!"), grey paused (two bars). Shapes are signed-distance functions sampled 4x4 per pixel,
// so the edges are anti-aliased without any drawing library.
package main

import (
	"flag"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"math"
	"os"
	"path/filepath"
)

type vec struct{ x, y float64 }

func sub(a, b vec) vec                { return vec{a.x - b.x, a.y - b.y} }
func dot(a, b vec) float64            { return a.x*b.x + a.y*b.y }
func length(a vec) float64            { return math.Hypot(a.x, a.y) }
func clamp(v, lo, hi float64) float64 { return math.Max(lo, math.Min(hi, v)) }

// shape returns a signed distance in unit coordinates (the icon spans -1..1); negative is inside.
type shape func(p vec) float64

func disc(c vec, r float64) shape {
	return func(p vec) float64 { return length(sub(p, c)) - r }
}

// roundRect is a rectangle centred on c with half-size h and corner radius r.
func roundRect(c, h vec, r float64) shape {
	return func(p vec) float64 {
		d := sub(p, c)
		q := vec{math.Abs(d.x) - h.x + r, math.Abs(d.y) - h.y + r}
		out := length(vec{math.Max(q.x, 0), math.Max(q.y, 0)})
		return out + math.Min(math.Max(q.x, q.y), 0) - r
	}
}

// taper is a stroke from a to b whose radius goes from ra to rb: a claw scratch.
func taper(a, b vec, ra, rb float64) shape {
	return func(p vec) float64 {
		ab := sub(b, a)
		t := clamp(dot(sub(p, a), ab)/dot(ab, ab), 0, 1)
		q := vec{a.x + ab.x*t, a.y + ab.y*t}
		return length(sub(p, q)) - (ra + (rb-ra)*t)
	}
}

func union(ss ...shape) shape {
	return func(p vec) float64 {
		d := math.Inf(1)
		for _, s := range ss {
			d = math.Min(d, s(p))
		}
		return d
	}
}

func minus(a, b shape) shape {
	return func(p vec) float64 { return math.Max(a(p), -b(p)) }
}

// scratch is a curved stroke along the quadratic Bezier a-c-b, thickest in the middle and pointed at
// both ends, like a claw mark. It is a chain of tapered segments.
func scratch(a, c, b vec, width float64) shape {
	const n = 16
	at := func(t float64) vec {
		u := 1 - t
		return vec{u*u*a.x + 2*u*t*c.x + t*t*b.x, u*u*a.y + 2*u*t*c.y + t*t*b.y}
	}
	radius := func(t float64) float64 { return 0.01 + width*math.Pow(math.Sin(math.Pi*t), 0.8) }
	parts := make([]shape, 0, n)
	for i := 0; i < n; i++ {
		t0, t1 := float64(i)/n, float64(i+1)/n
		parts = append(parts, taper(at(t0), at(t1), radius(t0), radius(t1)))
	}
	return union(parts...)
}

// claws are three parallel scratches from upper right to lower left, the middle one longest; scale
// shrinks them towards the centre so they sit inside a disc.
func claws(scale float64) shape {
	s := func(x0, y0, cx, cy, x1, y1 float64) shape {
		return scratch(vec{x0 * scale, y0 * scale}, vec{cx * scale, cy * scale}, vec{x1 * scale, y1 * scale}, 0.13*scale)
	}
	return union(
		s(0.05, -0.78, -0.20, -0.25, -0.62, 0.30),
		s(0.42, -0.62, 0.12, 0.00, -0.32, 0.64),
		s(0.72, -0.28, 0.45, 0.22, 0.02, 0.78),
	)
}

type layer struct {
	s shape
	c color.NRGBA
}

func render(size int, layers []layer) *image.NRGBA {
	img := image.NewNRGBA(image.Rect(0, 0, size, size))
	const ss = 4
	for y := 0; y < size; y++ {
		for x := 0; x < size; x++ {
			var r, g, b, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					p := vec{
						(float64(x)+(float64(sx)+0.5)/ss)/float64(size)*2 - 1,
						(float64(y)+(float64(sy)+0.5)/ss)/float64(size)*2 - 1,
					}
					// Composite the layers front to back with "over" for this sample.
					var cr, cg, cb, ca float64
					for _, l := range layers {
						if l.s(p) > 0 {
							continue
						}
						la := float64(l.c.A) / 255
						cr = cr*(1-la) + float64(l.c.R)*la
						cg = cg*(1-la) + float64(l.c.G)*la
						cb = cb*(1-la) + float64(l.c.B)*la
						ca = ca*(1-la) + la
					}
					r, g, b, a = r+cr, g+cg, b+cb, a+ca
				}
			}
			n := float64(ss * ss)
			if a == 0 {
				continue
			}
			// Un-premultiply: the sums above are colour*coverage.
			img.SetNRGBA(x, y, color.NRGBA{
				R: uint8(math.Round(r / a)),
				G: uint8(math.Round(g / a)),
				B: uint8(math.Round(b / a)),
				A: uint8(math.Round(a / n * 255)),
			})
		}
	}
	return img
}

var (
	white = color.NRGBA{0xff, 0xff, 0xff, 0xff}
	green = color.NRGBA{0x1f, 0x9d, 0x55, 0xff}
	amber = color.NRGBA{0xe8, 0x9b, 0x0c, 0xff}
	red   = color.NRGBA{0xd6, 0x33, 0x2f, 0xff}
	grey  = color.NRGBA{0x80, 0x86, 0x8d, 0xff}
	ink   = color.NRGBA{0x1b, 0x2a, 0x38, 0xff}
	teal  = color.NRGBA{0x12, 0x8c, 0x7e, 0xff}
)

func main() {
	dir := flag.String("out", "assets", "output folder")
	flag.Parse()
	for _, ic := range icons() {
		path := filepath.Join(*dir, ic.name)
		if err := write(path, render(ic.size, ic.layers)); err != nil {
			fmt.Fprintln(os.Stderr, "genicons:", err)
			os.Exit(1)
		}
		fmt.Println("wrote", path)
	}
}

// icon is one PNG of assets/: its file name, its size in pixels and what is drawn on it.
type icon struct {
	name   string
	size   int
	layers []layer
}

func icons() []icon {
	ring := disc(vec{}, 0.96)
	bar := func(x float64) shape { return roundRect(vec{x, 0}, vec{0.11, 0.42}, 0.06) }
	bang := union(roundRect(vec{0, -0.16}, vec{0.11, 0.40}, 0.09), disc(vec{0, 0.50}, 0.125))
	gate := roundRect(vec{0, 0}, vec{0.78, 0.10}, 0.06)
	return []icon{
		{"icon.png", 256, []layer{
			{roundRect(vec{}, vec{0.94, 0.94}, 0.36), ink},
			{disc(vec{}, 0.70), teal},
			{claws(0.78), white},
		}},
		{"tray-ok.png", 64, []layer{{ring, green}, {claws(0.8), white}}},
		{"tray-warn.png", 64, []layer{{ring, amber}, {claws(0.8), white}}},
		// The gate bar is cut out of the scratches with a margin, so it reads as a bar in front of them.
		{"tray-blocked.png", 64, []layer{
			{ring, red},
			{minus(claws(0.8), roundRect(vec{}, vec{0.9, 0.22}, 0.1)), white},
			{gate, white},
		}},
		{"tray-paused.png", 64, []layer{{ring, grey}, {union(bar(-0.24), bar(0.24)), white}}},
		{"tray-error.png", 64, []layer{{ring, red}, {bang, white}}},
	}
}

func write(path string, img image.Image) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("create icon: %w", err)
	}
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(f, img); err != nil {
		f.Close()
		return fmt.Errorf("encode %s: %w", path, err)
	}
	return f.Close()
}
