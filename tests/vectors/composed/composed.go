// Package composed builds the composed conformance vectors (an MLP, a small
// CNN, a tiny transformer block and edge cases) from a fixed-seed integer
// generator. Command tests/vectors/gen writes them to disk; the vectors test
// checks that the committed files are what this package builds.
package composed

import (
	"fmt"
	"math"
	"math/bits"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Vector is one composed vector.
type Vector struct {
	Name   string
	Model  []byte
	Input  []byte
	Output []byte
}

// All builds every composed vector, in a fixed order.
func All() []Vector {
	builders := []struct {
		name  string
		build func(g *graph) []byte // returns the input
	}{
		{"mlp", mlp},
		{"cnn", cnn},
		{"transformer", transformer},
		{"ties", ties},
		{"all_neg128", func(g *graph) []byte { return fill(mlpInput(g), -128) }},
		{"all_127", func(g *graph) []byte { return fill(cnnInput(g), 127) }},
		{"max_k", maxK},
		{"odd_shapes", oddShapes},
	}
	out := make([]Vector, 0, len(builders))
	for _, b := range builders {
		g := &graph{rng: newRNG(b.name)}
		input := b.build(g)
		m, enc, err := g.b.Build()
		if err != nil {
			panic(fmt.Sprintf("composed %s: %v", b.name, err)) // a bug in this generator, not input
		}
		prog, err := reference.Backend{}.Prepare(m)
		if err != nil {
			panic(fmt.Sprintf("composed %s: %v", b.name, err))
		}
		output, err := prog.Run(input)
		if err != nil {
			panic(fmt.Sprintf("composed %s: %v", b.name, err))
		}
		out = append(out, Vector{Name: b.name, Model: enc, Input: input, Output: output})
	}
	return out
}

// rng is splitmix64, seeded from the vector's name: integer-only, so the
// vectors do not depend on a library's random number algorithm.
type rng struct{ s uint64 }

func newRNG(name string) *rng {
	r := &rng{s: 0x9E3779B97F4A7C15}
	for _, c := range []byte(name) {
		r.s = r.s*31 + uint64(c)
	}
	return r
}

func (r *rng) next() uint64 {
	r.s += 0x9E3779B97F4A7C15
	z := r.s
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

// intn returns a value in [lo, hi].
func (r *rng) intn(lo, hi int64) int64 { return lo + int64(r.next()%uint64(hi-lo+1)) }

func (r *rng) values(n int, lo, hi int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = r.intn(lo, hi)
	}
	return out
}

func fill(b []byte, v int8) []byte {
	for i := range b {
		b[i] = byte(v)
	}
	return b
}

// graph wraps a builder with layer helpers.
type graph struct {
	b   inference.Builder
	rng *rng
}

func (g *graph) spec(t int) inference.Spec {
	tt := g.b.Tensor(t)
	return inference.Spec{DType: tt.DType, ZeroPoint: tt.ZeroPoint, Shape: tt.Shape}
}

func i8(zp int32, shape ...int) inference.Spec {
	return inference.Spec{DType: inference.Int8, ZeroPoint: zp, Shape: shape}
}

// requant picks per-channel (multiplier, shift) that scale an accumulator
// of a k-long dot product of random int8 values (standard deviation about
// √k·2^12.4) back to int8 range (about 2^5): a scale near 2^-7/√k.
func (g *graph) requant(channels, k int) (int, int) {
	mult := make([]int64, channels)
	shift := make([]int64, channels)
	for c := range mult {
		mult[c] = g.rng.intn(1<<29, 1<<30)
		shift[c] = int64(36+bits.Len(uint(k))/2) + g.rng.intn(0, 1)
	}
	return g.b.Const(inference.Int32, 0, []int{channels}, mult), g.b.Const(inference.Int8, 0, []int{channels}, shift)
}

// fc adds a FullyConnected layer with random weights; relu clamps at zy.
func (g *graph) fc(x, n int, zy int32, relu bool) int {
	xs := g.b.Shape(x)
	k := xs[len(xs)-1]
	w := g.b.Const(inference.Int8, 0, []int{n, k}, g.rng.values(n*k, -127, 127))
	bias := g.b.Const(inference.Int32, 0, []int{n}, g.rng.values(n, -2000, 2000))
	m, s := g.requant(n, k)
	qmin := int32(-128)
	if relu {
		qmin = zy
	}
	out := append(append([]int{}, xs[:len(xs)-1]...), n)
	return g.b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: qmin, QMax: 127}, i8(zy, out...), x, w, bias, m, s)
}

func (g *graph) conv(x, oc, k, stride, pad int, relu bool) int {
	xs := g.b.Shape(x)
	ic := xs[3]
	w := g.b.Const(inference.Int8, 0, []int{oc, k, k, ic}, g.rng.values(oc*k*k*ic, -127, 127))
	bias := g.b.Const(inference.Int32, 0, []int{oc}, g.rng.values(oc, -1000, 1000))
	m, s := g.requant(oc, k*k*ic)
	a := inference.Conv2DAttrs{StrideH: uint32(stride), StrideW: uint32(stride), DilationH: 1, DilationW: 1,
		PadTop: uint32(pad), PadLeft: uint32(pad), PadBottom: uint32(pad), PadRight: uint32(pad), QMin: -128, QMax: 127}
	zy := int32(g.rng.intn(-20, 20))
	if relu {
		a.QMin = zy
	}
	oh := inference.ConvOutput(xs[1], k, stride, 1, pad, pad)
	ow := inference.ConvOutput(xs[2], k, stride, 1, pad, pad)
	return g.b.Node(inference.OpConv2D, &a, i8(zy, xs[0], oh, ow, oc), x, w, bias, m, s)
}

func (g *graph) depthwise(x, k, stride, pad, mult int) int {
	xs := g.b.Shape(x)
	oc := xs[3] * mult
	w := g.b.Const(inference.Int8, 0, []int{k, k, oc}, g.rng.values(k*k*oc, -127, 127))
	bias := g.b.Const(inference.Int32, 0, []int{oc}, g.rng.values(oc, -500, 500))
	m, s := g.requant(oc, k*k)
	a := inference.DepthwiseConv2DAttrs{Conv2DAttrs: inference.Conv2DAttrs{StrideH: uint32(stride), StrideW: uint32(stride), DilationH: 1, DilationW: 1,
		PadTop: uint32(pad), PadLeft: uint32(pad), PadBottom: uint32(pad), PadRight: uint32(pad), QMin: -128, QMax: 127}, DepthMultiplier: uint32(mult)}
	oh := inference.ConvOutput(xs[1], k, stride, 1, pad, pad)
	ow := inference.ConvOutput(xs[2], k, stride, 1, pad, pad)
	return g.b.Node(inference.OpDepthwiseConv2D, &a, i8(int32(g.rng.intn(-10, 10)), xs[0], oh, ow, oc), x, w, bias, m, s)
}

// table builds a 256-entry int8 lookup table of f over the input scale.
func (g *graph) table(f func(x float64) float64, inScale, outScale float64) int {
	vals := make([]int64, 256)
	for i := range vals {
		y := f(float64(i-128)*inScale) / outScale
		vals[i] = int64(math.Max(-128, math.Min(127, math.Floor(y+0.5))))
	}
	return g.b.Const(inference.Int8, 0, []int{256}, vals)
}

func (g *graph) inputBytes(specs ...int) []byte {
	n := 0
	for _, t := range specs {
		tt := g.b.Tensor(t)
		n += tt.Bytes()
	}
	return make([]byte, n)
}

func (g *graph) randomInput(t int) []byte {
	b := g.inputBytes(t)
	for i := range b {
		b[i] = byte(g.rng.next())
	}
	return b
}
