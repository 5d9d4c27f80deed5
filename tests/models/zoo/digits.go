package zoo

import (
	"math"
	"math/rand/v2"

	"github.com/infergeth/infergeth/inference/onnx/detmath"
)

// Synthetic digits: a deterministic 10-class image dataset, 28×28 grey
// levels in [0, 1], standing in for MNIST (which cannot be downloaded
// here). Each class is a glyph of three to five strokes with endpoints
// drawn once from a fixed seed; a sample draws the glyph under a random
// shift, scale, rotation, stroke width and intensity, then adds Gaussian
// noise and a fainter stroke from another class. The float models reach
// about 90-95% on it, so accuracy numbers are not trivially 100%.

const (
	Side    = 28
	Pixels  = Side * Side
	Classes = 10
)

type stroke struct{ x0, y0, x1, y1 float64 }

// glyphs returns each class's strokes in [-1, 1]² coordinates.
func glyphs() [Classes][]stroke {
	r := rand.New(rand.NewPCG(2026, 11))
	var g [Classes][]stroke
	for c := range g {
		n := 2 + r.IntN(3)
		for i := 0; i < n; i++ {
			g[c] = append(g[c], stroke{r.Float64()*1.6 - 0.8, r.Float64()*1.6 - 0.8, r.Float64()*1.6 - 0.8, r.Float64()*1.6 - 0.8})
		}
	}
	return g
}

// Digits returns n samples (images and labels) drawn with seed.
func Digits(n int, seed uint64) ([][]float64, []int) {
	g := glyphs()
	r := rand.New(rand.NewPCG(seed, 77))
	xs := make([][]float64, n)
	ys := make([]int, n)
	for i := range xs {
		c := r.IntN(Classes)
		img := make([]float64, Pixels)
		angle := (r.Float64() - 0.5) * 0.6
		scale := 0.75 + 0.35*r.Float64()
		dx, dy := (r.Float64()-0.5)*0.4, (r.Float64()-0.5)*0.4
		width := 0.06 + 0.05*r.Float64()
		ink := 0.6 + 0.4*r.Float64()
		sin, cos := math.Sin(angle), math.Cos(angle)
		tf := func(x, y float64) (float64, float64) {
			return scale*(cos*x-sin*y) + dx, scale*(sin*x+cos*y) + dy
		}
		draw := func(s stroke, level float64) {
			x0, y0 := tf(s.x0, s.y0)
			x1, y1 := tf(s.x1, s.y1)
			for p := 0; p < Pixels; p++ {
				px := (float64(p%Side)+0.5)/Side*2 - 1
				py := (float64(p/Side)+0.5)/Side*2 - 1
				d := segDist(px, py, x0, y0, x1, y1)
				if v := level * detmath.Exp(-d*d/(2*width*width)); v > img[p] {
					img[p] = v
				}
			}
		}
		for _, s := range g[c] {
			draw(s, ink)
		}
		other := g[(c+1+r.IntN(Classes-1))%Classes]
		draw(other[r.IntN(len(other))], 0.5*ink)
		for p := range img {
			img[p] = math.Max(0, math.Min(1, img[p]+r.NormFloat64()*0.22))
		}
		xs[i], ys[i] = img, c
	}
	return xs, ys
}

func segDist(px, py, x0, y0, x1, y1 float64) float64 {
	vx, vy := x1-x0, y1-y0
	l := vx*vx + vy*vy
	t := 0.0
	if l > 0 {
		t = math.Max(0, math.Min(1, ((px-x0)*vx+(py-y0)*vy)/l))
	}
	ex, ey := px-(x0+t*vx), py-(y0+t*vy)
	return math.Sqrt(ex*ex + ey*ey)
}
