package cpu

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"testing"
	"unsafe"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// The differential tests: every path this machine supports (on an AVX-512
// VNNI machine: vnni, avx2 and generic) against the reference backend, bit
// for bit, on random and adversarial models and inputs.

func paths(t *testing.T) []*Backend {
	t.Helper()
	var out []*Backend
	for _, p := range Supported() {
		b, err := NewPath(p)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// check runs m on each input with the reference backend and every path,
// and fails on any difference.
func check(t *testing.T, name string, m *inference.Model, inputs ...[]byte) {
	t.Helper()
	ref, err := reference.Backend{}.Prepare(m)
	if err != nil {
		t.Fatalf("%s: reference prepare: %v", name, err)
	}
	for _, b := range paths(t) {
		prog, err := b.Prepare(m)
		if err != nil {
			t.Fatalf("%s: %s prepare: %v", name, b.Path(), err)
		}
		for i, in := range inputs {
			want, err := ref.Run(in)
			if err != nil {
				t.Fatalf("%s: reference run: %v", name, err)
			}
			got, err := prog.Run(in)
			if err != nil {
				t.Fatalf("%s: %s run: %v", name, b.Path(), err)
			}
			if !bytes.Equal(got, want) {
				at := 0
				for at < len(got) && got[at] == want[at] {
					at++
				}
				t.Fatalf("%s: path %s input %d: output differs from reference at byte %d of %d\n got %x\nwant %x",
					name, b.Path(), i, at, len(want), window(got, at), window(want, at))
			}
		}
	}
}

func window(b []byte, at int) []byte { return b[max(0, at-8):min(len(b), at+8)] }

// gen makes random model parameters; fill patterns are the adversarial cases.
type gen struct{ r *rand.Rand }

func newGen(seed uint64) *gen { return &gen{rand.New(rand.NewPCG(seed, 0x1f2e3d4c))} }

func (g *gen) intn(n int) int { return g.r.IntN(n) }

// bytesOf returns n int8 values: random, or one of the adversarial fills.
func (g *gen) activations(n int) []byte {
	b := make([]byte, n)
	switch g.intn(8) {
	case 0:
		fillByte(b, 0x80) // all -128
	case 1:
		fillByte(b, 127)
	case 2:
		for i := range b {
			b[i] = []byte{0x80, 127}[g.intn(2)]
		}
	default:
		for i := range b {
			b[i] = byte(g.r.Uint32())
		}
	}
	return b
}

func fillByte(b []byte, v byte) {
	for i := range b {
		b[i] = v
	}
}

// weights returns n values in [-127, 127]: random, small, or all ±127.
func (g *gen) weights(n int) []int64 {
	w := make([]int64, n)
	mode := g.intn(6)
	for i := range w {
		switch mode {
		case 0:
			w[i] = 127
		case 1:
			w[i] = -127
		case 2:
			w[i] = []int64{-127, 127}[g.intn(2)]
		case 3:
			w[i] = int64(g.intn(7)) - 3
		default:
			w[i] = int64(g.intn(255)) - 127
		}
	}
	return w
}

func (g *gen) zeroPoint(dt inference.DType) int32 {
	if dt == inference.Int32 {
		return 0
	}
	switch g.intn(5) {
	case 0:
		return int32(dt.Min())
	case 1:
		return int32(dt.Max())
	case 2:
		return 0
	}
	return int32(dt.Min() + int64(g.intn(int(dt.Max()-dt.Min()+1))))
}

func (g *gen) outType() inference.DType {
	return []inference.DType{inference.Int8, inference.Int8, inference.Int16, inference.Int32}[g.intn(4)]
}

// qrange returns clamp bounds within dt: the full range, or a random window.
func (g *gen) qrange(dt inference.DType) (int32, int32) {
	if g.intn(2) == 0 {
		return int32(dt.Min()), int32(dt.Max())
	}
	a := dt.Min() + g.r.Int64N(dt.Max()-dt.Min()+1)
	b := dt.Min() + g.r.Int64N(dt.Max()-dt.Min()+1)
	return int32(min(a, b)), int32(max(a, b))
}

// requant returns a multiplier and shift: sometimes extreme, usually scaled
// so that an accumulator of magnitude about accMag lands in a few hundred.
func (g *gen) requant(accMag int64) (int64, int64) {
	switch g.intn(6) {
	case 0:
		return 1 + g.r.Int64N(math.MaxInt32), int64(g.intn(63))
	case 1:
		return math.MaxInt32, int64([]int{0, 1, 31, 62}[g.intn(4)])
	case 2:
		return 1, int64(g.intn(3))
	}
	m := int64(1<<30) + g.r.Int64N(1<<30)
	bits := int64(0)
	for v := max(accMag, 1); v > 0; v >>= 1 {
		bits++
	}
	return m, min(62, max(0, 30+bits-8+int64(g.intn(5))-2))
}

// dense adds the weight, bias, multiplier and shift constants of a dense op
// with n channels whose channel c has the weights w[c] (in the op's layout
// order given by at) and returns their tensor indices. The bias keeps the
// overflow proof: |bias| ≤ 2^31-1 - Σ|w|·xmax.
func (g *gen) denseConsts(b *inference.Builder, wshape []int, w []int64, n int, channelAbs func(c int) int64, xmax int64) []int {
	wi := b.Const(inference.Int8, 0, wshape, w)
	bias := make([]int64, n)
	mult := make([]int64, n)
	shift := make([]int64, n)
	for c := 0; c < n; c++ {
		room := int64(math.MaxInt32) - channelAbs(c)*xmax
		switch g.intn(4) {
		case 0:
			bias[c] = room
		case 1:
			bias[c] = -room
		default:
			bias[c] = g.r.Int64N(2*min(room, 1<<20)+1) - min(room, 1<<20)
		}
		mult[c], shift[c] = g.requant(channelAbs(c) * xmax / 4)
	}
	return []int{wi, b.Const(inference.Int32, 0, []int{n}, bias), b.Const(inference.Int32, 0, []int{n}, mult), b.Const(inference.Int8, 0, []int{n}, shift)}
}

func xmaxOf(zx int32) int64 { return max(127-int64(zx), int64(zx)+128) }

// fcModel builds a FullyConnected over [rows, k] → [rows, n].
func (g *gen) fcModel(t *testing.T, rows, k, n int, w []int64, zx int32) *inference.Model {
	t.Helper()
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: zx, Shape: []int{rows, k}})
	abs := func(c int) int64 {
		var s int64
		for _, v := range w[c*k : (c+1)*k] {
			s += max(v, -v)
		}
		return s
	}
	consts := g.denseConsts(&b, []int{n, k}, w, n, abs, xmaxOf(zx))
	dt := g.outType()
	qmin, qmax := g.qrange(dt)
	y := b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: qmin, QMax: qmax},
		inference.Spec{DType: dt, ZeroPoint: g.zeroPoint(dt), Shape: []int{rows, n}}, append([]int{x}, consts...)...)
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		t.Fatalf("build FullyConnected %dx%dx%d: %v", rows, k, n, err)
	}
	return m
}

// TestFullyConnectedShapes covers every K mod 64, every N mod 16 and M = 1..17.
func TestFullyConnectedShapes(t *testing.T) {
	g := newGen(1)
	for k := 1; k <= 130; k++ {
		n := 1 + (k*7)%80
		rows := 1 + k%17
		zx := g.zeroPoint(inference.Int8)
		m := g.fcModel(t, rows, k, n, g.weights(n*k), zx)
		check(t, fmt.Sprintf("fc rows=%d k=%d n=%d zx=%d", rows, k, n, zx), m, g.activations(rows*k), g.activations(rows*k))
	}
	for n := 1; n <= 70; n++ {
		k := 1 + (n*13)%200
		m := g.fcModel(t, 1+n%17, k, n, g.weights(n*k), g.zeroPoint(inference.Int8))
		check(t, fmt.Sprintf("fc n=%d k=%d", n, k), m, g.activations((1+n%17)*k))
	}
	// Larger shapes: several row chunks and panels.
	for _, s := range [][3]int{{40, 300, 200}, {7, 1000, 65}, {100, 64, 129}, {13, 2048, 17}, {200, 2048, 40}} {
		m := g.fcModel(t, s[0], s[1], s[2], g.weights(s[1]*s[2]), g.zeroPoint(inference.Int8))
		check(t, fmt.Sprintf("fc %v", s), m, g.activations(s[0]*s[1]))
	}
}

// TestFullyConnectedMaxK: the largest K the overflow proof allows, all
// weights 127, inputs all -128 and all 127, both zero point extremes.
func TestFullyConnectedMaxK(t *testing.T) {
	g := newGen(2)
	for _, c := range []struct {
		zx int32
		k  int
	}{
		{0, 132104},   // 132104·128·127 = 2^31 - 1023
		{127, 66052},  // xmax 255
		{-128, 66052}, // xmax 255
		{-1, 132104},  // xmax 128 on the other side
	} {
		for _, w := range []int64{127, -127} {
			n := 17
			ws := make([]int64, n*c.k)
			for i := range ws {
				ws[i] = w
			}
			m := g.fcModel(t, 2, c.k, n, ws, c.zx)
			lo, hi := make([]byte, 2*c.k), make([]byte, 2*c.k)
			fillByte(lo, 0x80)
			fillByte(hi, 127)
			check(t, fmt.Sprintf("fc maxK k=%d zx=%d w=%d", c.k, c.zx, w), m, lo, hi)
		}
	}
}

// convModel builds a Conv2D or DepthwiseConv2D with random geometry.
func (g *gen) convModel(t *testing.T, depthwise bool) (*inference.Model, int, string) {
	t.Helper()
	batch := 1 + g.intn(2)
	kh, kw := 1+g.intn(4), 1+g.intn(4)
	dh, dw := 1+g.intn(3), 1+g.intn(3)
	if g.intn(2) == 0 {
		dh, dw = 1, 1
	}
	sh, sw := 1+g.intn(3), 1+g.intn(3)
	a := inference.Conv2DAttrs{StrideH: uint32(sh), StrideW: uint32(sw), DilationH: uint32(dh), DilationW: uint32(dw)}
	if g.intn(3) > 0 {
		a.PadTop, a.PadBottom = uint32(g.intn(dh*(kh-1)+1)), uint32(g.intn(dh*(kh-1)+1))
		a.PadLeft, a.PadRight = uint32(g.intn(dw*(kw-1)+1)), uint32(g.intn(dw*(kw-1)+1))
	}
	spanH, spanW := dh*(kh-1)+1, dw*(kw-1)+1
	h := max(spanH-int(a.PadTop+a.PadBottom), 1) + g.intn(8)
	w := max(spanW-int(a.PadLeft+a.PadRight), 1) + g.intn(8)
	c := 1 + g.intn(9)
	if g.intn(4) == 0 {
		c = []int{16, 19, 32, 64}[g.intn(4)]
	}
	zx := g.zeroPoint(inference.Int8)
	xmax := xmaxOf(zx)
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: zx, Shape: []int{batch, h, w, c}})
	oh := inference.ConvOutput(h, kh, sh, dh, int(a.PadTop), int(a.PadBottom))
	ow := inference.ConvOutput(w, kw, sw, dw, int(a.PadLeft), int(a.PadRight))
	dt := g.outType()
	qmin, qmax := g.qrange(dt)
	a.QMin, a.QMax = qmin, qmax
	var y int
	var desc string
	if depthwise {
		dm := 1 + g.intn(3)
		if g.intn(2) == 0 {
			dm = 1
		}
		oc := c * dm
		wv := g.weights(kh * kw * oc)
		abs := func(ch int) int64 {
			var s int64
			for t := 0; t < kh*kw; t++ {
				v := wv[t*oc+ch]
				s += max(v, -v)
			}
			return s
		}
		consts := g.denseConsts(&b, []int{kh, kw, oc}, wv, oc, abs, xmax)
		y = b.Node(inference.OpDepthwiseConv2D, &inference.DepthwiseConv2DAttrs{Conv2DAttrs: a, DepthMultiplier: uint32(dm)},
			inference.Spec{DType: dt, ZeroPoint: g.zeroPoint(dt), Shape: []int{batch, oh, ow, oc}}, append([]int{x}, consts...)...)
		desc = fmt.Sprintf("depthwise x=%v k=%dx%d dm=%d %+v", []int{batch, h, w, c}, kh, kw, dm, a)
	} else {
		oc := 1 + g.intn(40)
		if g.intn(4) == 0 {
			oc = []int{16, 64, 65, 100}[g.intn(4)]
		}
		per := kh * kw * c
		wv := g.weights(oc * per)
		abs := func(ch int) int64 {
			var s int64
			for _, v := range wv[ch*per : (ch+1)*per] {
				s += max(v, -v)
			}
			return s
		}
		consts := g.denseConsts(&b, []int{oc, kh, kw, c}, wv, oc, abs, xmax)
		y = b.Node(inference.OpConv2D, &a,
			inference.Spec{DType: dt, ZeroPoint: g.zeroPoint(dt), Shape: []int{batch, oh, ow, oc}}, append([]int{x}, consts...)...)
		desc = fmt.Sprintf("conv x=%v k=%dx%d oc=%d %+v", []int{batch, h, w, c}, kh, kw, oc, a)
	}
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		t.Fatalf("build %s: %v", desc, err)
	}
	return m, batch * h * w * c, desc
}

func TestConv2D(t *testing.T) {
	g := newGen(3)
	for i := 0; i < 150; i++ {
		m, n, desc := g.convModel(t, false)
		check(t, desc, m, g.activations(n), g.activations(n))
	}
	// Large enough for several row chunks, with padding on every side.
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: -7, Shape: []int{1, 30, 30, 32}})
	w := g.weights(24 * 3 * 3 * 32)
	abs := func(c int) int64 {
		var s int64
		for _, v := range w[c*288 : (c+1)*288] {
			s += max(v, -v)
		}
		return s
	}
	consts := g.denseConsts(&b, []int{24, 3, 3, 32}, w, 24, abs, xmaxOf(-7))
	a := inference.Conv2DAttrs{StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, PadTop: 1, PadLeft: 1, PadBottom: 2, PadRight: 2, QMin: -100, QMax: 100}
	y := b.Node(inference.OpConv2D, &a, inference.Spec{DType: inference.Int8, ZeroPoint: 3, Shape: []int{1, 31, 31, 24}}, append([]int{x}, consts...)...)
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	check(t, "conv 30x30x32 k3 oc24", m, g.activations(30*30*32))
}

func TestDepthwiseConv2D(t *testing.T) {
	g := newGen(4)
	for i := 0; i < 150; i++ {
		m, n, desc := g.convModel(t, true)
		check(t, desc, m, g.activations(n), g.activations(n))
	}
}

// matMulModel builds a MatMul; b is a constant when constB.
func (g *gen) matMulModel(t *testing.T, batch, M, K, N int, trans, constB bool, za, zb int32) *inference.Model {
	t.Helper()
	var b inference.Builder
	ashape, bshape := []int{M, K}, []int{K, N}
	if trans {
		bshape = []int{N, K}
	}
	yshape := []int{M, N}
	if batch > 1 || g.intn(2) == 0 {
		ashape = append([]int{batch}, ashape...)
		bshape = append([]int{batch}, bshape...)
		yshape = append([]int{batch}, yshape...)
	}
	A := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: za, Shape: ashape})
	var B int
	if constB {
		v := make([]int64, batch*K*N)
		for i := range v {
			v[i] = int64(int8(g.r.Uint32()))
		}
		B = b.Const(inference.Int8, zb, bshape, v)
	} else {
		B = b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: zb, Shape: bshape})
	}
	dt := g.outType()
	qmin, qmax := g.qrange(dt)
	mult, shift := g.requant(int64(K) * 128 * 128 / 8)
	var tb uint32
	if trans {
		tb = 1
	}
	y := b.Node(inference.OpMatMul, &inference.MatMulAttrs{TransposeB: tb, Multiplier: int32(mult), Shift: uint32(shift), QMin: qmin, QMax: qmax},
		inference.Spec{DType: dt, ZeroPoint: g.zeroPoint(dt), Shape: yshape}, A, B)
	b.Output(y)
	m, _, err := b.Build()
	if err != nil {
		t.Fatalf("build MatMul: %v", err)
	}
	return m
}

func TestMatMul(t *testing.T) {
	g := newGen(5)
	for i := 0; i < 120; i++ {
		batch := 1 + g.intn(3)
		M, K, N := 1+g.intn(17), 1+g.intn(130), 1+g.intn(80)
		trans, constB := g.intn(2) == 0, g.intn(3) == 0
		za, zb := g.zeroPoint(inference.Int8), g.zeroPoint(inference.Int8)
		m := g.matMulModel(t, batch, M, K, N, trans, constB, za, zb)
		n := batch * M * K
		if !constB {
			n += batch * K * N
		}
		check(t, fmt.Sprintf("matmul batch=%d M=%d K=%d N=%d trans=%v const=%v za=%d zb=%d", batch, M, K, N, trans, constB, za, zb), m,
			g.activations(n), g.activations(n))
	}
}

// TestMatMulMaxK: K·255·255 ≤ 2^31-1 at K = 33025, every operand at the
// far end of its zero point.
func TestMatMulMaxK(t *testing.T) {
	g := newGen(6)
	const K = 33025
	for _, z := range [][2]int32{{127, 127}, {-128, -128}, {127, -128}, {0, 0}} {
		for _, trans := range []bool{false, true} {
			m := g.matMulModel(t, 1, 3, K, 18, trans, false, z[0], z[1])
			in := make([]byte, 3*K+K*18)
			// a all at the far end from za, b likewise.
			far := func(zp int32) byte {
				if zp >= 0 {
					return 0x80
				}
				return 127
			}
			fillByte(in[:3*K], far(z[0]))
			fillByte(in[3*K:], far(z[1]))
			other := g.activations(len(in))
			check(t, fmt.Sprintf("matmul maxK z=%v trans=%v", z, trans), m, in, other)
		}
	}
}

// TestRequantEdges drives the epilogue directly with extreme accumulators
// and every shift, against reference.Requantize.
func TestRequantEdges(t *testing.T) {
	g := newGen(7)
	accs := []int32{math.MinInt32, math.MinInt32 + 1, -1 << 30, -3, -2, -1, 0, 1, 2, 3, 1 << 30, math.MaxInt32 - 1, math.MaxInt32}
	for _, ks := range []*kernelSet{&vnniSet, &avx2Set} {
		if (ks.path == PathVNNI && !hasVNNI()) || (ks.path == PathAVX2 && !hasAVX2()) {
			continue
		}
		for _, dt := range []inference.DType{inference.Int8, inference.Int16, inference.Int32} {
			for trial := 0; trial < 40; trial++ {
				cols := 1 + g.intn(40)
				rows := 1 + g.intn(5)
				mults := make([]int64, cols)
				shifts := make([]int64, cols)
				for c := range mults {
					mults[c] = []int64{1, math.MaxInt32, 1 + g.r.Int64N(math.MaxInt32)}[g.intn(3)]
					shifts[c] = int64((c + trial) % 63)
				}
				zy := g.zeroPoint(dt)
				qmin, qmax := g.qrange(dt)
				ep := newEpilogue(cols, cols, func(c int) int64 { return mults[c] }, func(c int) int64 { return shifts[c] }, zy, qmin, qmax, dt)
				ldc := roundUp(cols, 16)
				tile := make([]int32, rows*ldc)
				for i := range tile {
					if g.intn(2) == 0 {
						tile[i] = accs[g.intn(len(accs))]
					} else {
						tile[i] = int32(g.r.Uint32())
					}
				}
				ldo := cols*dt.Size() + 3
				got := make([]byte, rows*ldo)
				ks.requant(ep, tile, ldc, rows, cols, 0, got, 0, ldo)
				want := make([]byte, rows*ldo)
				for r := 0; r < rows; r++ {
					for c := 0; c < cols; c++ {
						v := reference.Requantize(int64(tile[r*ldc+c]), int32(mults[c]), uint32(shifts[c]), zy, qmin, qmax)
						inference.Store(want[r*ldo:], dt, c, v)
					}
				}
				if !bytes.Equal(got, want) {
					t.Fatalf("%s %s rows=%d cols=%d: epilogue differs\n got %x\nwant %x", ks.path, dt, rows, cols, got, want)
				}
			}
		}
	}
}

// TestConcurrentRuns: one prepared program, many goroutines, one answer.
func TestConcurrentRuns(t *testing.T) {
	g := newGen(8)
	m := g.fcModel(t, 9, 300, 70, g.weights(300*70), 5)
	ins := make([][]byte, 8)
	wants := make([][]byte, 8)
	ref, _ := reference.Backend{}.Prepare(m)
	for i := range ins {
		ins[i] = g.activations(9 * 300)
		wants[i], _ = ref.Run(ins[i])
	}
	for _, b := range paths(t) {
		prog, err := b.Prepare(m)
		if err != nil {
			t.Fatal(err)
		}
		runConcurrently(t, b.Path().String(), prog, ins, wants, 20)
	}
}

// runConcurrently runs prog in one goroutine per input, reps times each,
// and fails on any answer other than wants.
func runConcurrently(t *testing.T, name string, prog inference.Program, ins, wants [][]byte, reps int) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(ins))
	for i := range ins {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rep := 0; rep < reps; rep++ {
				got, err := prog.Run(ins[i])
				if err != nil || !bytes.Equal(got, wants[i]) {
					errs <- fmt.Errorf("%s: goroutine %d rep %d: err %v, equal %v", name, i, rep, err, bytes.Equal(got, wants[i]))
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestBadInput: a wrong input length is refused like the reference does.
func TestBadInput(t *testing.T) {
	g := newGen(9)
	m := g.fcModel(t, 2, 10, 3, g.weights(30), 0)
	for _, b := range paths(t) {
		prog, err := b.Prepare(m)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := prog.Run(make([]byte, 19)); err == nil {
			t.Fatalf("%s: short input accepted", b.Path())
		}
	}
}

// TestArgOffsets pins the struct layouts gen_kernels.go hard-codes.
func TestArgOffsets(t *testing.T) {
	var k kernelArgs
	var r requantArgs
	var d dwArgs
	for _, c := range []struct {
		name      string
		got, want uintptr
	}{
		{"kernelArgs.a", unsafe.Offsetof(k.a), 0}, {"kernelArgs.lda", unsafe.Offsetof(k.lda), 8},
		{"kernelArgs.b", unsafe.Offsetof(k.b), 16}, {"kernelArgs.kg", unsafe.Offsetof(k.kg), 24},
		{"kernelArgs.bias", unsafe.Offsetof(k.bias), 32}, {"kernelArgs.rowoff", unsafe.Offsetof(k.rowoff), 40},
		{"kernelArgs.c", unsafe.Offsetof(k.c), 48}, {"kernelArgs.ldc", unsafe.Offsetof(k.ldc), 56},
		{"kernelArgs.out", unsafe.Offsetof(k.out), 64}, {"kernelArgs.ldo", unsafe.Offsetof(k.ldo), 72},
		{"kernelArgs.mult", unsafe.Offsetof(k.mult), 80}, {"kernelArgs.round", unsafe.Offsetof(k.round), 88},
		{"kernelArgs.shift", unsafe.Offsetof(k.shift), 96}, {"kernelArgs.zy", unsafe.Offsetof(k.zy), 104},
		{"kernelArgs.qmin", unsafe.Offsetof(k.qmin), 112}, {"kernelArgs.qmax", unsafe.Offsetof(k.qmax), 120},
		{"kernelArgs.masks", unsafe.Offsetof(k.masks), 128},
		{"requantArgs.c", unsafe.Offsetof(r.c), 0}, {"requantArgs.ldc", unsafe.Offsetof(r.ldc), 8},
		{"requantArgs.rows", unsafe.Offsetof(r.rows), 16}, {"requantArgs.cols", unsafe.Offsetof(r.cols), 24},
		{"requantArgs.mult", unsafe.Offsetof(r.mult), 32}, {"requantArgs.round", unsafe.Offsetof(r.round), 40},
		{"requantArgs.shift", unsafe.Offsetof(r.shift), 48}, {"requantArgs.zy", unsafe.Offsetof(r.zy), 56},
		{"requantArgs.qmin", unsafe.Offsetof(r.qmin), 64}, {"requantArgs.qmax", unsafe.Offsetof(r.qmax), 72},
		{"requantArgs.out", unsafe.Offsetof(r.out), 80}, {"requantArgs.ldo", unsafe.Offsetof(r.ldo), 88},
		{"dwArgs.x", unsafe.Offsetof(d.x), 0}, {"dwArgs.taps", unsafe.Offsetof(d.taps), 8},
		{"dwArgs.ntaps", unsafe.Offsetof(d.ntaps), 16}, {"dwArgs.w", unsafe.Offsetof(d.w), 24},
		{"dwArgs.bias", unsafe.Offsetof(d.bias), 32}, {"dwArgs.groups", unsafe.Offsetof(d.groups), 40},
		{"dwArgs.pixStride", unsafe.Offsetof(d.pixStride), 48},
		{"dwArgs.c", unsafe.Offsetof(d.c), 56}, {"dwArgs.ldc", unsafe.Offsetof(d.ldc), 64},
		{"dwArgs.wStride", unsafe.Offsetof(d.wStride), 72},
	} {
		if c.got != c.want {
			t.Errorf("%s at offset %d; gen_kernels.go assumes %d", c.name, c.got, c.want)
		}
	}
}

// TestRunAllocations: a warm Run allocates nothing beyond what the reference
// program itself allocates (node outputs); scratch comes from the pool. GC
// is off so that the pool keeps its buffers for the measurement.
func TestRunAllocations(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	g := newGen(21)
	models := []*inference.Model{
		g.fcModel(t, 7, 300, 70, g.weights(300*70), 3),
		g.matMulModel(t, 2, 9, 70, 33, false, false, 3, 5),
		g.matMulModel(t, 2, 9, 70, 33, true, false, 3, 5),
	}
	for i := 0; i < 3; i++ {
		m, _, _ := g.convModel(t, false)
		models = append(models, m)
		m, _, _ = g.convModel(t, true)
		models = append(models, m)
	}
	for i, m := range models {
		in := make([]byte, m.InputBytes())
		rp, err := reference.Backend{}.Prepare(m)
		if err != nil {
			t.Fatal(err)
		}
		ref := testing.AllocsPerRun(10, func() { rp.Run(in) })
		for _, b := range paths(t) {
			p, err := b.Prepare(m)
			if err != nil {
				t.Fatal(err)
			}
			if got := testing.AllocsPerRun(10, func() { p.Run(in) }); got > ref {
				t.Errorf("model %d path %s: %v allocations per Run, the reference program makes %v", i, b.Path(), got, ref)
			}
		}
	}
}
