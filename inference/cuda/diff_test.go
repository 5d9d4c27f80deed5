package cuda

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// The differential tests: random and adversarial dense nodes, every one
// computed by a Backend and by the reference backend, byte for byte. The
// same cases run on the Go device (this build), the emulator (cudaemu) and
// a GPU (cuda), at sizes each can afford.

// diffCase is one model with its inputs.
type diffCase struct {
	name   string
	model  *inference.Model
	inputs [][]byte
}

// sizes bounds the shapes a case generator draws.
type sizes struct {
	maxRows, maxK, maxN int // GEMM rows, reduction length, output channels
	maxHW, maxC         int // convolution input
}

var (
	smallSizes = sizes{maxRows: 150, maxK: 200, maxN: 150, maxHW: 12, maxC: 24}
	gpuSizes   = sizes{maxRows: 1200, maxK: 3000, maxN: 700, maxHW: 40, maxC: 96}
)

// zeroPoint draws an activation zero point, often an extreme.
func zeroPoint(r *rand.Rand) int32 {
	switch r.IntN(5) {
	case 0:
		return -128
	case 1:
		return 127
	case 2:
		return 0
	}
	return int32(r.IntN(256) - 128)
}

// weightValues draws n weights in [-127, 127]; sometimes all at one extreme.
func weightValues(r *rand.Rand, n int) []int64 {
	w := make([]int64, n)
	mode := r.IntN(6)
	for i := range w {
		switch mode {
		case 0:
			w[i] = 127
		case 1:
			w[i] = -127
		case 2:
			w[i] = int64(r.IntN(3) - 1)
		default:
			w[i] = int64(r.IntN(255) - 127)
		}
	}
	return w
}

// requantParams draws per-channel multipliers and shifts that keep most
// outputs inside the range (with some ties and clamps), for accumulators of
// about accScale.
func requantParams(r *rand.Rand, n int, accScale float64) (mult, shift []int64) {
	mult, shift = make([]int64, n), make([]int64, n)
	base := int64(math.Log2(max(accScale, 1))) + 24 // acc·2^30 >> base ≈ ±64
	for c := 0; c < n; c++ {
		switch r.IntN(8) {
		case 0: // exact: shift 0
			mult[c], shift[c] = int64(1+r.IntN(3)), 0
		case 1: // the largest multiplier
			mult[c], shift[c] = math.MaxInt32, min(62, base+1)
		case 2: // many ties: shift 1
			mult[c], shift[c] = 1, 1
		default:
			mult[c] = int64(1<<30) + r.Int64N(1<<30)
			shift[c] = min(62, max(1, base+int64(r.IntN(5))-2))
		}
	}
	return mult, shift
}

// outSpec draws the output type, zero point and clamp range.
func outSpec(r *rand.Rand) (inference.DType, int32, int32, int32) {
	dt := []inference.DType{inference.Int8, inference.Int8, inference.Int16, inference.Int32}[r.IntN(4)]
	zy := int32(0)
	if dt != inference.Int32 {
		zy = int32(r.Int64N(dt.Max()-dt.Min()+1) + dt.Min())
		if dt == inference.Int16 {
			zy /= 256
		}
	}
	qmin, qmax := int32(dt.Min()), int32(dt.Max())
	switch r.IntN(3) {
	case 0: // ReLU
		qmin = zy
	case 1: // a narrow window
		qmin, qmax = zy-int32(r.IntN(20)), zy+int32(r.IntN(20))
		qmin, qmax = int32(max(int64(qmin), dt.Min())), int32(min(int64(qmax), dt.Max()))
	}
	return dt, zy, qmin, qmax
}

// biasValues draws biases that keep the overflow proof true: headroom[c] is
// what Σ|w|·xmax leaves of 2^31-1.
func biasValues(r *rand.Rand, headroom []int64) []int64 {
	b := make([]int64, len(headroom))
	for c, h := range headroom {
		lim := min(h, 1<<22)
		if r.IntN(6) == 0 {
			lim = h // the largest bias the proof allows
			if r.IntN(2) == 0 {
				b[c] = lim
			} else {
				b[c] = -lim
			}
			continue
		}
		b[c] = r.Int64N(2*lim+1) - lim
	}
	return b
}

func xmaxOf(zx int32) int64 { return max(127-int64(zx), int64(zx)+128) }

// inputFor draws an input for tensor t: random, all -128 or all 127.
func inputFor(r *rand.Rand, t *inference.Tensor, mode int) []byte {
	b := make([]byte, t.Bytes())
	for i := range b {
		switch mode {
		case 0:
			b[i] = 0x80
		case 1:
			b[i] = 0x7f
		default:
			b[i] = byte(r.Uint32())
		}
	}
	return b
}

func inputsFor(r *rand.Rand, m *inference.Model) [][]byte {
	var out [][]byte
	for mode := 0; mode < 4; mode++ {
		var in []byte
		for _, t := range m.Inputs {
			in = append(in, inputFor(r, &m.Tensors[t], mode)...)
		}
		out = append(out, in)
	}
	return out
}

// denseConstants adds weights (shape), bias, multiplier and shift for a node
// with channels outputs whose channel c sums the weights chanW(c).
func denseConstants(b *inference.Builder, r *rand.Rand, shape []int, channels, perChannel int, zx int32,
	chanW func(w []int64, c int) []int64) (wt, bias, mult, shift int) {
	n := 1
	for _, d := range shape {
		n *= d
	}
	w := weightValues(r, n)
	headroom := make([]int64, channels)
	for c := range headroom {
		var s int64
		for _, v := range chanW(w, c) {
			s += max(v, -v)
		}
		headroom[c] = math.MaxInt32 - s*xmaxOf(zx)
	}
	ms, ss := requantParams(r, channels, 128*64*math.Sqrt(float64(perChannel)))
	wt = b.Const(inference.Int8, 0, shape, w)
	bias = b.Const(inference.Int32, 0, []int{channels}, biasValues(r, headroom))
	mult = b.Const(inference.Int32, 0, []int{channels}, ms)
	shift = b.Const(inference.Int8, 0, []int{channels}, ss)
	return
}

func genFullyConnected(r *rand.Rand, s sizes) (*inference.Model, string) {
	rows, k, n := 1+r.IntN(s.maxRows), 1+r.IntN(s.maxK), 1+r.IntN(s.maxN)
	if r.IntN(3) == 0 {
		rows = 1 + r.IntN(dp4aMaxRows) // batch-1 style: the dp4a kernel
	}
	return fcModel(r, rows, k, n, zeroPoint(r))
}

// fcModel is one FullyConnected node over x [rows, k] with n outputs.
func fcModel(r *rand.Rand, rows, k, n int, zx int32) (*inference.Model, string) {
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: zx, Shape: []int{rows, k}})
	w, bias, mult, shift := denseConstants(&b, r, []int{n, k}, n, k, zx, func(w []int64, c int) []int64 { return w[c*k : (c+1)*k] })
	dt, zy, qmin, qmax := outSpec(r)
	y := b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: qmin, QMax: qmax},
		inference.Spec{DType: dt, ZeroPoint: zy, Shape: []int{rows, n}}, x, w, bias, mult, shift)
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		panic(err)
	}
	return m, fmt.Sprintf("fc rows=%d k=%d n=%d zx=%d out=%s", rows, k, n, zx, dt)
}

// convShape draws an input, a kernel and a window that fit together.
func convShape(r *rand.Rand, s sizes) (batch, h, w, c, kh, kw int, a inference.Conv2DAttrs) {
	batch, h, w, c = 1+r.IntN(2), 1+r.IntN(s.maxHW), 1+r.IntN(s.maxHW), 1+r.IntN(s.maxC)
	if r.IntN(4) == 0 {
		c = 16 * (1 + r.IntN(4)) // K-aligned pointwise cases
	}
	kh, kw = 1+r.IntN(min(h, 5)), 1+r.IntN(min(w, 5))
	a = inference.Conv2DAttrs{StrideH: uint32(1 + r.IntN(3)), StrideW: uint32(1 + r.IntN(3)), DilationH: 1, DilationW: 1}
	if r.IntN(3) == 0 {
		a.StrideH, a.StrideW = 1, 1
	}
	if r.IntN(4) == 0 && h > 2*kh && w > 2*kw {
		a.DilationH, a.DilationW = 2, uint32(1+r.IntN(2))
	}
	spanH, spanW := int(a.DilationH)*(kh-1), int(a.DilationW)*(kw-1)
	if r.IntN(3) > 0 {
		a.PadTop, a.PadBottom = uint32(r.IntN(spanH+1)), uint32(r.IntN(spanH+1))
		a.PadLeft, a.PadRight = uint32(r.IntN(spanW+1)), uint32(r.IntN(spanW+1))
	}
	return
}

func genConv2D(r *rand.Rand, s sizes) (*inference.Model, string) {
	batch, h, w, c, kh, kw, a := convShape(r, s)
	oc := 1 + r.IntN(s.maxN/2)
	oh := inference.ConvOutput(h, kh, int(a.StrideH), int(a.DilationH), int(a.PadTop), int(a.PadBottom))
	ow := inference.ConvOutput(w, kw, int(a.StrideW), int(a.DilationW), int(a.PadLeft), int(a.PadRight))
	zx := zeroPoint(r)
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: zx, Shape: []int{batch, h, w, c}})
	k := kh * kw * c
	wt, bias, mult, shift := denseConstants(&b, r, []int{oc, kh, kw, c}, oc, k, zx, func(w []int64, ch int) []int64 { return w[ch*k : (ch+1)*k] })
	dt, zy, qmin, qmax := outSpec(r)
	a.QMin, a.QMax = qmin, qmax
	y := b.Node(inference.OpConv2D, &a, inference.Spec{DType: dt, ZeroPoint: zy, Shape: []int{batch, oh, ow, oc}}, x, wt, bias, mult, shift)
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		panic(err)
	}
	return m, fmt.Sprintf("conv x=%dx%dx%dx%d k=%dx%d oc=%d stride=%d,%d dil=%d,%d pad=%d,%d,%d,%d zx=%d out=%s",
		batch, h, w, c, kh, kw, oc, a.StrideH, a.StrideW, a.DilationH, a.DilationW, a.PadTop, a.PadLeft, a.PadBottom, a.PadRight, zx, dt)
}

func genDepthwise(r *rand.Rand, s sizes) (*inference.Model, string) {
	batch, h, w, c, kh, kw, ca := convShape(r, s)
	dm := 1 + r.IntN(3)
	oc := c * dm
	oh := inference.ConvOutput(h, kh, int(ca.StrideH), int(ca.DilationH), int(ca.PadTop), int(ca.PadBottom))
	ow := inference.ConvOutput(w, kw, int(ca.StrideW), int(ca.DilationW), int(ca.PadLeft), int(ca.PadRight))
	zx := zeroPoint(r)
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: zx, Shape: []int{batch, h, w, c}})
	wt, bias, mult, shift := denseConstants(&b, r, []int{kh, kw, oc}, oc, kh*kw, zx, func(w []int64, ch int) []int64 {
		out := make([]int64, 0, kh*kw)
		for t := 0; t < kh*kw; t++ {
			out = append(out, w[t*oc+ch])
		}
		return out
	})
	dt, zy, qmin, qmax := outSpec(r)
	ca.QMin, ca.QMax = qmin, qmax
	a := inference.DepthwiseConv2DAttrs{Conv2DAttrs: ca, DepthMultiplier: uint32(dm)}
	y := b.Node(inference.OpDepthwiseConv2D, &a, inference.Spec{DType: dt, ZeroPoint: zy, Shape: []int{batch, oh, ow, oc}}, x, wt, bias, mult, shift)
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		panic(err)
	}
	return m, fmt.Sprintf("depthwise x=%dx%dx%dx%d k=%dx%d dm=%d stride=%d,%d pad=%d,%d zx=%d out=%s",
		batch, h, w, c, kh, kw, dm, ca.StrideH, ca.StrideW, ca.PadTop, ca.PadLeft, zx, dt)
}

func genMatMul(r *rand.Rand, s sizes) (*inference.Model, string) {
	batch, m, k, n := 1+r.IntN(3), 1+r.IntN(s.maxRows), 1+r.IntN(s.maxK), 1+r.IntN(s.maxN)
	if r.IntN(3) == 0 {
		m = 1 + r.IntN(dp4aMaxRows)
	}
	rank3 := r.IntN(2) == 0
	if !rank3 {
		batch = 1
	}
	return matMulModel(r, batch, m, k, n, rank3, r.IntN(2) == 1, r.IntN(2) == 0)
}

// matMulModel is one MatMul node: a [batch, m, k] (rank 2 without rank3)
// times b [batch, k, n] ([batch, n, k] with trans), b a constant or an input.
func matMulModel(r *rand.Rand, batch, m, k, n int, rank3, trans, bConst bool) (*inference.Model, string) {
	shape := func(d ...int) []int {
		if rank3 {
			return append([]int{batch}, d...)
		}
		return d
	}
	bShape := shape(k, n)
	if trans {
		bShape = shape(n, k)
	}
	za, zb := zeroPoint(r), zeroPoint(r)
	var b inference.Builder
	A := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: za, Shape: shape(m, k)})
	var B int
	if bConst {
		vals := make([]int64, batch*k*n)
		for i := range vals {
			vals[i] = int64(r.IntN(256) - 128)
		}
		B = b.Const(inference.Int8, zb, bShape, vals)
	} else {
		B = b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: zb, Shape: bShape})
	}
	dt, zy, qmin, qmax := outSpec(r)
	ms, ss := requantParams(r, 1, 128*128*math.Sqrt(float64(k)))
	tb := uint32(0)
	if trans {
		tb = 1
	}
	a := &inference.MatMulAttrs{TransposeB: tb, Multiplier: int32(ms[0]), Shift: uint32(ss[0]), QMin: qmin, QMax: qmax}
	y := b.Node(inference.OpMatMul, a, inference.Spec{DType: dt, ZeroPoint: zy, Shape: shape(m, n)}, A, B)
	b.Output(y)
	model, _, err := b.Build()
	if err != nil {
		panic(err)
	}
	return model, fmt.Sprintf("matmul batch=%d m=%d k=%d n=%d trans=%v za=%d zb=%d bconst=%v out=%s", batch, m, k, n, trans, za, zb, bConst, dt)
}

// edgeCases are GEMM shapes just below, at and above the kernels' tiles
// (128 rows and columns, 64 bytes of K per stage, 16 rows for dp4a, 16-byte
// K padding), with limit rows/cols scaled for slow devices.
func edgeCases(seed uint64, limit int) []diffCase {
	r := rand.New(rand.NewPCG(seed, 0xed9e))
	var cases []diffCase
	add := func(m *inference.Model, name string) {
		cases = append(cases, diffCase{name: fmt.Sprintf("edge %d %s", len(cases), name), model: m, inputs: inputsFor(r, m)})
	}
	for _, d := range [][3]int{{1, 1, 1}, {1, 16, 8}, {2, 15, 9}, {15, 17, 7}, {16, 64, 128}, {17, 63, 127},
		{127, 64, 129}, {128, 128, 128}, {129, 65, 255}, {255, 192, 257}, {300, 1000, 33}} {
		if d[0] > limit || d[2] > limit {
			continue
		}
		add(fcModel(r, d[0], d[1], d[2], zeroPoint(r)))
		add(matMulModel(r, 2, d[0], d[1], d[2], true, r.IntN(2) == 0, r.IntN(2) == 0))
	}
	return cases
}

// maxKCase is a FullyConnected at the longest K the overflow proof allows
// with weights all ±127 and zx = 0: 132104 (docs/spec.md section 5).
// Channel 0's weights are all 127, channel 1's all -127, channel 2's mixed.
func maxKCase(rows int) diffCase {
	const k, n = 132104, 3
	r := rand.New(rand.NewPCG(k, uint64(rows)))
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, Shape: []int{rows, k}})
	w := make([]int64, n*k)
	for j := 0; j < k; j++ {
		w[j], w[k+j], w[2*k+j] = 127, -127, 127-254*int64(r.IntN(2))
	}
	ms, ss := requantParams(r, n, 128*127*k)
	y := b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: -32768, QMax: 32767},
		inference.Spec{DType: inference.Int16, Shape: []int{rows, n}},
		x, b.Const(inference.Int8, 0, []int{n, k}, w), b.Const(inference.Int32, 0, []int{n}, []int64{0, 0, 0}),
		b.Const(inference.Int32, 0, []int{n}, ms), b.Const(inference.Int8, 0, []int{n}, ss))
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		panic(err)
	}
	return diffCase{name: fmt.Sprintf("fc max K rows=%d", rows), model: m, inputs: inputsFor(r, m)}
}

// randomCases draws n cases of each dense op.
func randomCases(seed uint64, n int, s sizes) []diffCase {
	r := rand.New(rand.NewPCG(seed, 0x1f6e))
	gens := []func(*rand.Rand, sizes) (*inference.Model, string){genFullyConnected, genConv2D, genDepthwise, genMatMul}
	var cases []diffCase
	for i := 0; i < n; i++ {
		for _, g := range gens {
			m, name := g(r, s)
			cases = append(cases, diffCase{name: fmt.Sprintf("%d %s", len(cases), name), model: m, inputs: inputsFor(r, m)})
		}
	}
	return cases
}

// vectorCases loads the composed conformance vectors (tests/vectors/NAME/).
func vectorCases(t testing.TB) []diffCase {
	dirs, err := filepath.Glob("../../tests/vectors/*/model.bin")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no composed vectors under tests/vectors (%v)", err)
	}
	var cases []diffCase
	for _, path := range dirs {
		raw, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		m, err := inference.Decode(raw)
		if err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		in := readHexFile(t, filepath.Join(filepath.Dir(path), "input.hex"))
		cases = append(cases, diffCase{name: filepath.Base(filepath.Dir(path)), model: m, inputs: [][]byte{in}})
	}
	return cases
}

func readHexFile(t testing.TB, path string) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// checkCases runs every case on b and on the reference backend, the cases
// in parallel (the reference is the slow part; the backend is safe for
// concurrent use and serializes its device work).
func checkCases(t *testing.T, b *Backend, cases []diffCase) {
	t.Helper()
	for _, err := range runParallel(cases, func(c diffCase) error { return compareCase(b, c) }) {
		t.Error(err)
	}
	if f := b.Faults(); f != 0 {
		t.Errorf("%d GPU faults: some nodes ran on the CPU, not on the device under test", f)
	}
}

// compareCase runs one case on b and on the reference backend.
func compareCase(b inference.Backend, c diffCase) error {
	prog, err := b.Prepare(c.model)
	if err != nil {
		return fmt.Errorf("%s: prepare: %v", c.name, err)
	}
	ref, err := reference.Backend{}.Prepare(c.model)
	if err != nil {
		return err
	}
	for i, in := range c.inputs {
		want, werr := ref.Run(in)
		got, gerr := prog.Run(in)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			return fmt.Errorf("%s: input %d: error %v, reference %v", c.name, i, gerr, werr)
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s: input %d: output differs from the reference at byte %d of %d\n got %x\nwant %x",
				c.name, i, firstDiff(got, want), len(want), clip(got), clip(want))
		}
	}
	return nil
}

// runParallel runs f on every case with GOMAXPROCS goroutines and returns
// the errors (at most 10).
func runParallel(cases []diffCase, f func(diffCase) error) []error {
	var (
		mu   sync.Mutex
		errs []error
		wg   sync.WaitGroup
		next = make(chan diffCase)
	)
	for w := 0; w < runtime.GOMAXPROCS(0); w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range next {
				if err := f(c); err != nil {
					mu.Lock()
					if len(errs) < 10 {
						errs = append(errs, err)
					}
					mu.Unlock()
				}
			}
		}()
	}
	for _, c := range cases {
		next <- c
	}
	close(next)
	wg.Wait()
	return errs
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func clip(b []byte) []byte {
	if len(b) > 64 {
		return b[:64]
	}
	return b
}
