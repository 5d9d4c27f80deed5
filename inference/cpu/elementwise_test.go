package cpu

import (
	"fmt"
	"math"
	"math/bits"
	"runtime/debug"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Differential tests of the typed element ops (every op but the dense ones):
// random and adversarial models and inputs against the reference backend,
// bit for bit, errors included. The ops do not depend on the kernel path,
// so one path (the best this machine has) runs them.

// checkRef runs m on each input with the reference and the cpu backend and
// fails on any difference in output bytes or error.
func checkRef(t *testing.T, name string, m *inference.Model, inputs ...[]byte) {
	t.Helper()
	ref, err := reference.Backend{}.Prepare(m)
	if err != nil {
		t.Fatalf("%s: reference prepare: %v", name, err)
	}
	prog, err := New().Prepare(m)
	if err != nil {
		t.Fatalf("%s: prepare: %v", name, err)
	}
	for i, in := range inputs {
		want, werr := ref.Run(in)
		got, gerr := prog.Run(in)
		if fmt.Sprint(gerr) != fmt.Sprint(werr) {
			t.Fatalf("%s: input %d: error %v, reference %v", name, i, gerr, werr)
		}
		if string(got) != string(want) {
			at := 0
			for at < len(got) && at < len(want) && got[at] == want[at] {
				at++
			}
			t.Fatalf("%s: input %d: output differs from reference at byte %d of %d\n got %x\nwant %x",
				name, i, at, len(want), window(got, min(at, len(got))), window(want, at))
		}
	}
}

func build(t *testing.T, b *inference.Builder) *inference.Model {
	t.Helper()
	m, _, err := b.Build()
	if err != nil {
		t.Fatal(err)
	}
	return m
}

var dtypes = []inference.DType{inference.Int8, inference.Int16, inference.Int32}

func (g *gen) dtype(ds ...inference.DType) inference.DType { return ds[g.intn(len(ds))] }

// values returns n elements of dt as bytes: random over the full range, or
// an adversarial pattern (all min, all max, alternating extremes, a narrow
// band around v0 that makes ties and equal values likely, the four values
// nearest the extremes).
func (g *gen) values(dt inference.DType, n int, v0 int64) []byte {
	b := make([]byte, n*dt.Size())
	lo, hi := dt.Min(), dt.Max()
	mode := g.intn(9)
	for i := 0; i < n; i++ {
		var v int64
		switch mode {
		case 0:
			v = lo
		case 1:
			v = hi
		case 2:
			v = []int64{lo, hi}[g.intn(2)]
		case 3:
			v = min(max(v0+int64(g.intn(5))-2, lo), hi)
		case 4:
			v = []int64{lo, lo + 1, hi - 1, hi}[g.intn(4)]
		default:
			v = lo + g.r.Int64N(hi-lo+1)
		}
		inference.Store(b, dt, i, v)
	}
	return b
}

// input returns a whole call input for m: each graph input's values.
func (g *gen) input(m *inference.Model) []byte {
	var in []byte
	for _, ti := range m.Inputs {
		tn := &m.Tensors[ti]
		in = append(in, g.values(tn.DType, tn.Elements(), int64(tn.ZeroPoint))...)
	}
	return in
}

func (g *gen) inputs(m *inference.Model, k int) [][]byte {
	out := make([][]byte, k)
	for i := range out {
		out[i] = g.input(m)
	}
	return out
}

// shape returns a random shape of the given rank whose element count stays
// near budget: mostly small dims, sometimes a long one (so the fast paths
// for long runs and tiles are taken too).
func (g *gen) shape(rank, budget int) []int {
	s := make([]int, rank)
	n := 1
	for d := range s {
		switch g.intn(6) {
		case 0:
			s[d] = 1
		case 1:
			s[d] = 16 + g.intn(80)
		default:
			s[d] = 1 + g.intn(5)
		}
		n *= s[d]
	}
	for n > budget {
		d := g.intn(rank)
		n /= s[d]
		s[d] = max(1, s[d]/2)
		n *= s[d]
	}
	return s
}

// shiftMult returns a multiplier and shift: extremes, ties (tiny
// multipliers and shifts show every bit), or typical scales.
func (g *gen) shiftMult() (int32, uint32) {
	switch g.intn(5) {
	case 0:
		return int32(1 + g.r.Int64N(math.MaxInt32)), uint32(g.intn(63))
	case 1:
		return math.MaxInt32, []uint32{0, 1, 31, 62}[g.intn(4)]
	case 2:
		return int32(1 + g.intn(3)), uint32(g.intn(3))
	}
	return int32(1<<30 + g.r.Int64N(1<<30)), uint32(28 + g.intn(10))
}

func (g *gen) spec(dt inference.DType, shape []int) inference.Spec {
	return inference.Spec{DType: dt, ZeroPoint: g.zeroPoint(dt), Shape: shape}
}

// broadcastPair returns operand shapes that broadcast to out: each operand
// is right-aligned, of any rank up to out's, and has each dim either out's
// or 1.
func (g *gen) broadcastPair(out []int) ([]int, []int) {
	op := func() []int {
		r := len(out)
		if r > 0 && g.intn(3) == 0 {
			r = g.intn(len(out) + 1)
		}
		s := make([]int, r)
		for i := range s {
			s[i] = out[len(out)-r+i]
			if g.intn(3) == 0 {
				s[i] = 1
			}
		}
		return s
	}
	a, b := op(), op()
	if len(a) < len(out) && len(b) < len(out) {
		pre := make([]int, len(out)-len(a))
		for i := range pre {
			pre[i] = 1
		}
		a = append(pre, a...)
	}
	// Make sure the broadcast is out itself: some operand has each dim.
	for i := range out {
		ia, ib := len(a)-len(out)+i, len(b)-len(out)+i
		if (ia < 0 || a[ia] != out[i]) && (ib < 0 || b[ib] != out[i]) {
			if ia >= 0 && (ib < 0 || g.intn(2) == 0) {
				a[ia] = out[i]
			} else {
				b[ib] = out[i]
			}
		}
	}
	return a, b
}

func TestAddMulBroadcast(t *testing.T) {
	g := newGen(101)
	for i := 0; i < 400; i++ {
		out := g.shape(g.intn(7), 3000)
		sa, sb := g.broadcastPair(out)
		mul := g.intn(3) == 0
		dy := g.dtype(dtypes...)
		var b inference.Builder
		var name string
		if mul {
			xa := b.Input(g.spec(inference.Int8, sa))
			xb := b.Input(g.spec(inference.Int8, sb))
			a := inference.MulAttrs{}
			a.Multiplier, a.Shift = g.shiftMult()
			a.QMin, a.QMax = g.qrange(dy)
			b.Output(b.Node(inference.OpMul, &a, g.spec(dy, out), xa, xb))
			name = fmt.Sprintf("mul %v×%v→%v %s %+v", sa, sb, out, dy, a)
		} else {
			da, db := g.dtype(inference.Int8, inference.Int16), g.dtype(inference.Int8, inference.Int16)
			xa := b.Input(g.spec(da, sa))
			xb := b.Input(g.spec(db, sb))
			a := inference.AddAttrs{}
			a.MultiplierA, a.Shift = g.shiftMult()
			a.MultiplierB, _ = g.shiftMult()
			a.QMin, a.QMax = g.qrange(dy)
			b.Output(b.Node(inference.OpAdd, &a, g.spec(dy, out), xa, xb))
			name = fmt.Sprintf("add %s%v+%s%v→%s%v %+v", da, sa, db, sb, dy, out, a)
		}
		m := build(t, &b)
		checkRef(t, name, m, g.inputs(m, 3)...)
	}
}

// Every broadcast pattern of two rank-3 operands over one output shape,
// with dims of 1, short and long runs.
func TestBroadcastPatterns(t *testing.T) {
	g := newGen(102)
	for _, out := range [][]int{{3, 5, 7}, {2, 2, 40}, {40, 2, 2}, {1, 17, 1}, {33, 1, 19}} {
		for ma := 0; ma < 8; ma++ {
			for mb := 0; mb < 8; mb++ {
				sa, sb := make([]int, 3), make([]int, 3)
				for d := 0; d < 3; d++ {
					sa[d], sb[d] = out[d], out[d]
					if ma&(1<<d) != 0 {
						sa[d] = 1
					}
					if mb&(1<<d) != 0 {
						sb[d] = 1
					}
				}
				if inference.BroadcastShape(sa, sb) == nil || fmt.Sprint(inference.BroadcastShape(sa, sb)) != fmt.Sprint(out) {
					continue
				}
				var b inference.Builder
				xa := b.Input(g.spec(inference.Int16, sa))
				xb := b.Input(g.spec(inference.Int8, sb))
				a := inference.AddAttrs{MultiplierA: 3, MultiplierB: 5, Shift: 1, QMin: math.MinInt32, QMax: math.MaxInt32}
				b.Output(b.Node(inference.OpAdd, &a, g.spec(inference.Int32, out), xa, xb))
				m := build(t, &b)
				checkRef(t, fmt.Sprintf("add %v+%v", sa, sb), m, g.inputs(m, 2)...)
			}
		}
	}
}

func TestRequantizeClampLookup(t *testing.T) {
	g := newGen(103)
	for i := 0; i < 300; i++ {
		shape := g.shape(g.intn(7), 2000)
		dx := g.dtype(dtypes...)
		var b inference.Builder
		var name string
		switch g.intn(3) {
		case 0:
			dy := g.dtype(dtypes...)
			x := b.Input(g.spec(dx, shape))
			a := inference.RequantizeAttrs{}
			a.Multiplier, a.Shift = g.shiftMult()
			a.QMin, a.QMax = g.qrange(dy)
			b.Output(b.Node(inference.OpRequantize, &a, g.spec(dy, shape), x))
			name = fmt.Sprintf("requantize %s→%s %+v", dx, dy, a)
		case 1:
			x := b.Input(g.spec(dx, shape))
			lo, hi := g.qrange(dx)
			a := inference.ClampAttrs{Min: lo, Max: hi}
			b.Output(b.Node(inference.OpClamp, &a, inference.Spec{DType: dx, ZeroPoint: b.Tensor(x).ZeroPoint, Shape: shape}, x))
			name = fmt.Sprintf("clamp %s %+v", dx, a)
		default:
			x := b.Input(g.spec(inference.Int8, shape))
			table := make([]int64, 256)
			for j := range table {
				table[j] = int64(g.intn(256)) - 128
			}
			tab := b.Const(inference.Int8, 0, []int{256}, table)
			b.Output(b.Node(inference.OpLookup, &inference.NoAttrs{}, g.spec(inference.Int8, shape), x, tab))
			name = "lookup"
		}
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("%s %v", name, shape), m, g.inputs(m, 3)...)
	}
}

func TestPools(t *testing.T) {
	g := newGen(104)
	for i := 0; i < 300; i++ {
		dt := g.dtype(inference.Int8, inference.Int16)
		kh, kw := 1+g.intn(5), 1+g.intn(5)
		if g.intn(10) == 0 {
			kh, kw = 64, 1+g.intn(64)
		}
		a := inference.Pool2DAttrs{KernelH: uint32(kh), KernelW: uint32(kw), StrideH: uint32(1 + g.intn(3)), StrideW: uint32(1 + g.intn(3))}
		a.PadTop, a.PadBottom = uint32(g.intn(kh)), uint32(g.intn(kh))
		a.PadLeft, a.PadRight = uint32(g.intn(kw)), uint32(g.intn(kw))
		c := []int{1, 2, 3, 7, 8, 9, 16, 33}[g.intn(8)]
		h, w, batch := max(1, kh-int(a.PadTop+a.PadBottom))+g.intn(8), max(1, kw-int(a.PadLeft+a.PadRight))+g.intn(8), 1+g.intn(2)
		if kh == 64 {
			h, w, c = 64+g.intn(3), kw+g.intn(3), 1+g.intn(3)
		}
		oh := inference.ConvOutput(h, kh, int(a.StrideH), 1, int(a.PadTop), int(a.PadBottom))
		ow := inference.ConvOutput(w, kw, int(a.StrideW), 1, int(a.PadLeft), int(a.PadRight))
		op := []inference.Op{inference.OpMaxPool2D, inference.OpAvgPool2D}[g.intn(2)]
		var b inference.Builder
		x := b.Input(g.spec(dt, []int{batch, h, w, c}))
		b.Output(b.Node(op, &a, inference.Spec{DType: dt, ZeroPoint: b.Tensor(x).ZeroPoint, Shape: []int{batch, oh, ow, c}}, x))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("%s %s x=%v %+v", op, dt, []int{batch, h, w, c}, a), m, g.inputs(m, 3)...)
	}
}

func TestMean(t *testing.T) {
	g := newGen(105)
	for i := 0; i < 300; i++ {
		r := 1 + g.intn(6)
		shape := g.shape(r, 4000)
		dt := g.dtype(inference.Int8, inference.Int16)
		a := inference.MeanAttrs{Axes: uint32(1 + g.intn(1<<r-1)), KeepDims: uint32(g.intn(2))}
		var b inference.Builder
		x := b.Input(g.spec(dt, shape))
		oshape := inference.ReduceShape(shape, a.Axes, a.KeepDims == 1)
		b.Output(b.Node(inference.OpMean, &a, inference.Spec{DType: dt, ZeroPoint: b.Tensor(x).ZeroPoint, Shape: oshape}, x))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("mean %s %v %+v", dt, shape, a), m, g.inputs(m, 3)...)
	}
	// The largest count: 2^24 int16 values, all at one extreme (the sum's
	// magnitude is largest) and mixed.
	for _, v := range []int64{-32768, 32767} {
		var b inference.Builder
		x := b.Input(inference.Spec{DType: inference.Int16, Shape: []int{1 << 12, 1 << 12}})
		b.Output(b.Node(inference.OpMean, &inference.MeanAttrs{Axes: 3}, inference.Spec{DType: inference.Int16}, x))
		m := build(t, &b)
		in := make([]byte, m.InputBytes())
		for j := 0; j < 1<<24; j++ {
			inference.Store(in, inference.Int16, j, v-int64(j%2)*(v>>14))
		}
		checkRef(t, fmt.Sprintf("mean of 2^24 near %d", v), m, in)
	}
}

func TestTransposeRanks(t *testing.T) {
	g := newGen(106)
	for i := 0; i < 400; i++ {
		r := g.intn(7)
		shape := g.shape(r, 6000)
		if i%10 == 0 && r >= 2 { // large enough for tiles
			shape = g.shape(r, 200000)
			shape[g.intn(r)] = 64 + g.intn(100)
			shape[g.intn(r)] = 64 + g.intn(100)
			for n := elems(shape); n > 300000; n = elems(shape) {
				d := g.intn(r)
				shape[d] = max(1, shape[d]/2)
			}
		}
		dt := g.dtype(dtypes...)
		perm := g.r.Perm(r)
		var a inference.TransposeAttrs
		oshape := make([]int, r)
		for d, p := range perm {
			a.Perm[d] = uint32(p)
			oshape[d] = shape[p]
		}
		var b inference.Builder
		x := b.Input(g.spec(dt, shape))
		b.Output(b.Node(inference.OpTranspose, &a, inference.Spec{DType: dt, ZeroPoint: b.Tensor(x).ZeroPoint, Shape: oshape}, x))
		m := build(t, &b)
		// Distinct values (a counter) show any misplaced element.
		in := make([]byte, m.InputBytes())
		for j := range in {
			in[j] = byte(j*7 + j>>8)
		}
		checkRef(t, fmt.Sprintf("transpose %s %v perm %v", dt, shape, perm), m, in, g.input(m))
	}
}

func elems(s []int) int {
	n := 1
	for _, d := range s {
		n *= d
	}
	return n
}

func TestConcat(t *testing.T) {
	g := newGen(107)
	for i := 0; i < 300; i++ {
		r := 1 + g.intn(6)
		base := g.shape(r, 500)
		axis := g.intn(r)
		dt := g.dtype(dtypes...)
		zp := g.zeroPoint(dt)
		k := 2 + g.intn(15)
		var b inference.Builder
		var ins []int
		oshape := append([]int(nil), base...)
		oshape[axis] = 0
		for j := 0; j < k; j++ {
			s := append([]int(nil), base...)
			s[axis] = []int{1, 1, 2, 3, 5, 8, 17}[g.intn(7)]
			oshape[axis] += s[axis]
			ins = append(ins, b.Input(inference.Spec{DType: dt, ZeroPoint: zp, Shape: s}))
		}
		if k < 16 && g.intn(4) == 0 { // a constant operand too
			s := append([]int(nil), base...)
			s[axis] = 2
			oshape[axis] += 2
			v := make([]int64, elems(s))
			for j := range v {
				v[j] = dt.Min() + g.r.Int64N(dt.Max()-dt.Min()+1)
			}
			ins = append(ins, b.Const(dt, zp, s, v))
		}
		b.Output(b.Node(inference.OpConcat, &inference.ConcatAttrs{Axis: uint32(axis)}, inference.Spec{DType: dt, ZeroPoint: zp, Shape: oshape}, ins...))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("concat %s %d×%v axis %d", dt, len(ins), base, axis), m, g.inputs(m, 2)...)
	}
}

func TestGather(t *testing.T) {
	g := newGen(108)
	for i := 0; i < 300; i++ {
		dt := g.dtype(dtypes...)
		di := g.dtype(dtypes...)
		rows := 1 + g.intn(40)
		if di == inference.Int8 {
			rows = min(rows, 100)
		}
		tail := g.shape(g.intn(3), 60)
		dshape := append([]int{rows}, tail...)
		ishape := g.shape(g.intn(7-len(dshape)+1), 50)
		data := make([]int64, elems(dshape))
		for j := range data {
			data[j] = dt.Min() + g.r.Int64N(dt.Max()-dt.Min()+1)
		}
		var b inference.Builder
		idx := b.Input(inference.Spec{DType: di, Shape: ishape})
		var d int
		if g.intn(3) == 0 {
			d = b.Input(g.spec(dt, dshape))
		} else {
			d = b.Const(dt, g.zeroPoint(dt), dshape, data)
		}
		oshape := append(append([]int(nil), ishape...), tail...)
		b.Output(b.Node(inference.OpGather, &inference.NoAttrs{}, inference.Spec{DType: dt, ZeroPoint: b.Tensor(d).ZeroPoint, Shape: oshape}, d, idx))
		m := build(t, &b)
		// Inputs: graph inputs in order (indices first, then data if it is one).
		var inputs [][]byte
		for trial := 0; trial < 4; trial++ {
			n := elems(ishape)
			iv := make([]byte, n*di.Size())
			for j := 0; j < n; j++ {
				v := int64(g.intn(rows))
				switch {
				case trial == 2 && j == n/2: // one index out of range
					v = []int64{-1, int64(rows), di.Min(), di.Max()}[g.intn(4)]
					if di.Max() < int64(rows) && v == di.Max() {
						v = -1
					}
				case trial == 3 && j == n-1:
					v = int64(rows)
				}
				inference.Store(iv, di, j, v)
			}
			in := iv
			if len(m.Inputs) == 2 {
				in = append(in, g.values(dt, elems(dshape), 0)...)
			}
			inputs = append(inputs, in)
		}
		checkRef(t, fmt.Sprintf("gather %s%v[%s%v]", dt, dshape, di, ishape), m, inputs...)
	}
}

func TestArgMax(t *testing.T) {
	g := newGen(109)
	for i := 0; i < 300; i++ {
		r := 1 + g.intn(6)
		shape := g.shape(r, 4000)
		dt := g.dtype(dtypes...)
		a := inference.ArgMaxAttrs{Axis: uint32(g.intn(r)), KeepDims: uint32(g.intn(2))}
		var b inference.Builder
		x := b.Input(g.spec(dt, shape))
		b.Output(b.Node(inference.OpArgMax, &a, inference.Spec{DType: inference.Int32, Shape: inference.ReduceShape(shape, 1<<a.Axis, a.KeepDims == 1)}, x))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("argmax %s %v %+v", dt, shape, a), m, g.inputs(m, 4)...)
	}
}

func TestSoftmax(t *testing.T) {
	g := newGen(110)
	for i := 0; i < 200; i++ {
		n := []int{1, 2, 3, 4, 7, 16, 255, 256, 4096}[g.intn(9)]
		rows := 1 + g.intn(max(1, 3000/n))
		dy := g.dtype(inference.Int8, inference.Int16)
		table := make([]int64, 256)
		switch g.intn(4) {
		case 0: // the largest entries: sums near 2^43
			for d := range table {
				table[d] = math.MaxInt32 - int64(g.intn(2))
			}
		case 1: // mostly zeros
			table[0] = 1 + int64(g.intn(3))
			for d := 1; d < 256; d++ {
				table[d] = int64(g.intn(2))
			}
		default:
			for d := range table {
				table[d] = max(1, int64(65536>>(d/16))+int64(g.intn(100)))
			}
		}
		a := inference.SoftmaxAttrs{OutputScale: []uint32{1, 256, 65535, math.MaxInt32, uint32(1 + g.r.Int64N(math.MaxInt32))}[g.intn(5)]}
		if n%2 == 0 && g.intn(2) == 0 {
			// A row of equal values has e_j·scale/S = scale/n: an exact
			// tie (k + 1/2) when scale ≡ n/2 (mod n).
			a.OutputScale = uint32(n/2 + n*g.intn(1000))
		}
		a.QMin, a.QMax = g.qrange(dy)
		var b inference.Builder
		x := b.Input(g.spec(inference.Int8, []int{rows, n}))
		b.Output(b.Node(inference.OpSoftmax, &a, g.spec(dy, []int{rows, n}), x, b.Const(inference.Int32, 0, []int{256}, table)))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("softmax rows=%d n=%d %s %+v", rows, n, dy, a), m, g.inputs(m, 3)...)
	}
}

func TestNormRows(t *testing.T) {
	g := newGen(111)
	for i := 0; i < 200; i++ {
		rms := g.intn(2) == 0
		n := []int{1, 2, 3, 5, 64, 300, 4096}[g.intn(7)]
		rows := 1 + g.intn(max(1, 6000/n))
		dt := g.dtype(inference.Int8, inference.Int16)
		a := inference.NormAttrs{FractionBits: uint32(g.intn(17)), Epsilon: 1 + uint64(g.r.Int64N(1<<20)), Shift: uint32(g.intn(40))}
		switch g.intn(4) {
		case 0:
			a.Epsilon = 1 << 60
		case 1:
			a.Epsilon = 1
		}
		a.QMin, a.QMax = g.qrange(dt)
		gamma, beta := make([]int64, n), make([]int64, n)
		for j := range gamma {
			gamma[j] = g.r.Int64N(1<<16) - 1<<15
			beta[j] = g.r.Int64N(1<<24) - 1<<23
		}
		var b inference.Builder
		x := b.Input(g.spec(inference.Int8, []int{rows, n}))
		op := inference.OpLayerNorm
		if rms {
			op = inference.OpRMSNorm
		}
		b.Output(b.Node(op, &a, g.spec(dt, []int{rows, n}), x,
			b.Const(inference.Int32, 0, []int{n}, gamma), b.Const(inference.Int32, 0, []int{n}, beta)))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("%s rows=%d n=%d %s %+v", op, rows, n, dt, a), m, g.inputs(m, 3)...)
	}
}

// The exact-arithmetic helpers against the reference's and big-integer
// definitions on random and edge values.
func TestDivisor(t *testing.T) {
	g := newGen(112)
	ds := []uint64{1, 2, 3, 5, 7, 10, 255, 256, 4095, 4096, 8192, 1<<31 - 1, 1 << 31, 1<<32 - 1, 1 << 32, 1<<43 + 1, 1<<62 + 3, math.MaxUint64 / 3, math.MaxUint64 - 1, math.MaxUint64}
	for i := 0; i < 300; i++ {
		ds = append(ds, g.r.Uint64()>>g.intn(64)|1, uint64(1+g.intn(10000)))
	}
	for _, d := range ds {
		v := newDivisor(d)
		ns := []uint64{0, 1, d - 1, d, d + 1, 2*d - 1, 2 * d, math.MaxUint64, math.MaxUint64 - 1, math.MaxUint64 - d}
		for j := 0; j < 200; j++ {
			ns = append(ns, g.r.Uint64()>>g.intn(64))
			q := g.r.Uint64() >> g.intn(64)
			if hi, lo := bits.Mul64(q, d); hi == 0 {
				ns = append(ns, lo, lo-1, lo+1)
			}
		}
		for _, n := range ns {
			if got, want := v.div(n), n/d; got != want {
				t.Fatalf("div(%d, %d) = %d, want %d", n, d, got, want)
			}
		}
		if d > 1<<62 {
			continue
		}
		for j := 0; j < 200; j++ {
			n := g.r.Int64N(1<<62) - 1<<61
			if j < 20 {
				n = int64(j) - 10
			}
			if j%3 == 0 && d <= 1<<30 {
				n = int64(d) * (g.r.Int64N(1<<31) - 1<<30) // exact multiples and neighbours
				n += int64(g.intn(3)) - 1
			}
			want := n / int64(d)
			if n%int64(d) != 0 && n < 0 {
				want--
			}
			if got := v.floorDiv(n); got != want {
				t.Fatalf("floorDiv(%d, %d) = %d, want %d", n, d, got, want)
			}
			if d%2 == 0 && n > -1<<60 && n < 1<<60 {
				a := n / 2
				if got, want := v.divRound(a), reference.DivRound(a, int64(d/2)); got != want {
					t.Fatalf("divRound(%d, %d) = %d, want %d", a, d/2, got, want)
				}
			}
		}
	}
}

func TestISqrt(t *testing.T) {
	g := newGen(113)
	check := func(v uint64) {
		if got, want := isqrt(v), inference.ISqrt(v); got != want {
			t.Fatalf("isqrt(%d) = %d, want %d", v, got, want)
		}
	}
	for v := uint64(0); v < 1<<16; v++ {
		check(v)
	}
	for i := 0; i < 200000; i++ {
		r := g.r.Uint64() >> (32 + g.intn(33))
		if r >= 1<<31 {
			r = 1<<31 - 1
		}
		sq := r * r
		check(sq)
		check(sq + 2*r) // (r+1)² − 1
		if sq > 0 {
			check(sq - 1)
		}
		check(g.r.Uint64() >> g.intn(64))
	}
	for _, v := range []uint64{1 << 60, 1<<60 - 1, 1<<60 + 1, 1<<62 - 1, 1 << 62, math.MaxUint64} {
		check(v)
	}
}

// TestElementEdges: shapes that select each special path of the typed ops.
func TestElementEdges(t *testing.T) {
	g := newGen(114)
	unary := func(x inference.Spec, op inference.Op, attrs inference.Attrs, out inference.Spec) *inference.Model {
		var b inference.Builder
		b.Output(b.Node(op, attrs, out, b.Input(x)))
		return build(t, &b)
	}
	i8 := func(shape ...int) inference.Spec {
		return inference.Spec{DType: inference.Int8, ZeroPoint: 3, Shape: shape}
	}
	i16 := func(shape ...int) inference.Spec {
		return inference.Spec{DType: inference.Int16, ZeroPoint: -7, Shape: shape}
	}
	i32 := func(shape ...int) inference.Spec { return inference.Spec{DType: inference.Int32, Shape: shape} }
	models := map[string]*inference.Model{
		// ArgMax over columns in several blocks of 512.
		"argmax columns": unary(i16(3, 1500), inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 0}, i32(1500)),
		"argmax rows":    unary(i8(700, 3), inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 1, KeepDims: 1}, i32(700, 1)),
		// Mean over axes of size 1 only (a copy), and over big axes.
		"mean of ones": unary(i8(7, 1, 5, 1), inference.OpMean, &inference.MeanAttrs{Axes: 10}, i8(7, 5)),
		"mean big":     unary(i16(300, 3, 70), inference.OpMean, &inference.MeanAttrs{Axes: 5, KeepDims: 1}, i16(1, 3, 1)),
		// Transposes with 8×8 tiles and edges, and runs of odd widths.
		"transpose bytes":   unary(i8(67, 131), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0}}, i8(131, 67)),
		"transpose words":   unary(i16(130, 70), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0}}, i16(70, 130)),
		"transpose dwords":  unary(i32(33, 2, 65), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{2, 1, 0}}, i32(65, 2, 33)),
		"transpose run 3":   unary(i8(40, 50, 3), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0, 2}}, i8(50, 40, 3)),
		"transpose run 6":   unary(i16(20, 70, 3), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0, 2}}, i16(70, 20, 3)),
		"transpose run 20":  unary(i32(9, 5, 20, 1), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0, 2, 3}}, i32(5, 9, 20, 1)),
		"transpose 16^4":    unary(i8(16, 16, 16, 16), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{3, 2, 1, 0}}, i8(16, 16, 16, 16)),
		"transpose partial": unary(i8(70, 9, 130), inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{2, 0, 1}}, i8(130, 70, 9)),
		// 1×1 pools (a strided copy) and stride larger than the window.
		"maxpool 1×1/3": unary(i16(2, 7, 8, 3), inference.OpMaxPool2D, &inference.Pool2DAttrs{KernelH: 1, KernelW: 1, StrideH: 3, StrideW: 2}, i16(2, 3, 4, 3)),
		"avgpool 1×1/2": unary(i8(1, 5, 5, 1), inference.OpAvgPool2D, &inference.Pool2DAttrs{KernelH: 1, KernelW: 1, StrideH: 2, StrideW: 2}, i8(1, 3, 3, 1)),
		"avgpool 2×2/5": unary(i8(1, 11, 12, 2), inference.OpAvgPool2D, &inference.Pool2DAttrs{KernelH: 2, KernelW: 2, StrideH: 5, StrideW: 5}, i8(1, 2, 3, 2)),
	}
	for name, m := range models {
		checkRef(t, name, m, g.inputs(m, 3)...)
	}
	// Broadcasts whose every axis is short (the tabulated block) and
	// concat and gather runs of every width up to 40 bytes.
	for _, out := range [][]int{{5, 4, 5, 4}, {3, 15, 2, 15}, {2, 2, 2, 2, 2, 2}} {
		var b inference.Builder
		sa, sb := append([]int(nil), out...), append([]int(nil), out...)
		for d := range out {
			if d%2 == 0 {
				sa[d] = 1
			} else {
				sb[d] = 1
			}
		}
		xa, xb := b.Input(i8(sa...)), b.Input(i16(sb...))
		b.Output(b.Node(inference.OpAdd, &inference.AddAttrs{MultiplierA: 7, MultiplierB: 3, Shift: 3, QMin: -100, QMax: 100}, i8(out...), xa, xb))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("add block %v", out), m, g.inputs(m, 2)...)
	}
	for width := 1; width <= 40; width++ {
		var b inference.Builder
		x1, x2 := b.Input(i8(9, width)), b.Input(i8(9, 1))
		b.Output(b.Node(inference.OpConcat, &inference.ConcatAttrs{Axis: 1}, i8(9, width+1), x1, x2))
		m := build(t, &b)
		checkRef(t, fmt.Sprintf("concat width %d", width), m, g.inputs(m, 2)...)

		var bg inference.Builder
		vals := make([]int64, 5*width)
		for i := range vals {
			vals[i] = int64(g.intn(256)) - 128
		}
		data := bg.Const(inference.Int8, 3, []int{5, width}, vals)
		idx := bg.Input(inference.Spec{DType: inference.Int16, Shape: []int{7}})
		bg.Output(bg.Node(inference.OpGather, &inference.NoAttrs{}, i8(7, width), data, idx))
		m = build(t, &bg)
		in := make([]byte, 14)
		for i := 0; i < 7; i++ {
			inference.Store(in, inference.Int16, i, int64((i*3)%5))
		}
		checkRef(t, fmt.Sprintf("gather width %d", width), m, in)
	}
}

// elementChain is a model of several typed ops in a row: RMSNorm and
// Softmax over rows of 3 (their memos), a Transpose, a broadcasting Add
// and a Mean.
func elementChain(t *testing.T) *inference.Model {
	var b inference.Builder
	x := b.Input(inference.Spec{DType: inference.Int8, ZeroPoint: 2, Shape: []int{6, 5, 3}})
	x2 := b.Input(inference.Spec{DType: inference.Int16, ZeroPoint: -9, Shape: []int{1, 6, 1}})
	vec := func(n int, v int64) int {
		vals := make([]int64, n)
		for i := range vals {
			vals[i] = v + int64(i)
		}
		return b.Const(inference.Int32, 0, []int{n}, vals)
	}
	i8 := func(zp int32, shape ...int) inference.Spec {
		return inference.Spec{DType: inference.Int8, ZeroPoint: zp, Shape: shape}
	}
	n1 := b.Node(inference.OpRMSNorm, &inference.NormAttrs{FractionBits: 7, Epsilon: 3, Shift: 6, QMin: -128, QMax: 127}, i8(0, 6, 5, 3), x, vec(3, 40), vec(3, -5))
	exp := make([]int64, 256)
	for i := range exp {
		exp[i] = int64(65536 >> (i / 16))
	}
	n2 := b.Node(inference.OpSoftmax, &inference.SoftmaxAttrs{OutputScale: 256, QMin: -128, QMax: 127}, i8(-128, 6, 5, 3), n1, b.Const(inference.Int32, 0, []int{256}, exp))
	n3 := b.Node(inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{2, 0, 1}}, i8(-128, 3, 6, 5), n2)
	n4 := b.Node(inference.OpAdd, &inference.AddAttrs{MultiplierA: 1 << 20, MultiplierB: 3 << 18, Shift: 20, QMin: -32768, QMax: 32767},
		inference.Spec{DType: inference.Int16, ZeroPoint: 4, Shape: []int{3, 6, 5}}, n3, x2)
	n5 := b.Node(inference.OpMean, &inference.MeanAttrs{Axes: 5}, inference.Spec{DType: inference.Int16, ZeroPoint: 4, Shape: []int{6}}, n4)
	b.Output(n2, n5)
	return build(t, &b)
}

// TestElementConcurrentRuns: one program, many goroutines (each Run has its
// own scratch and memos), the reference's answers.
func TestElementConcurrentRuns(t *testing.T) {
	g := newGen(115)
	m := elementChain(t)
	ref, _ := reference.Backend{}.Prepare(m)
	prog, err := New().Prepare(m)
	if err != nil {
		t.Fatal(err)
	}
	ins := g.inputs(m, 8)
	wants := make([][]byte, len(ins))
	for i, in := range ins {
		wants[i], _ = ref.Run(in)
	}
	runConcurrently(t, "element chain", prog, ins, wants, 50)
}

// TestElementRunAllocations: a warm Run of the typed ops allocates no more
// than the reference program does (its node outputs).
func TestElementRunAllocations(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	m := elementChain(t)
	in := make([]byte, m.InputBytes())
	rp, _ := reference.Backend{}.Prepare(m)
	p, _ := New().Prepare(m)
	ref := testing.AllocsPerRun(20, func() { rp.Run(in) })
	if got := testing.AllocsPerRun(20, func() { p.Run(in) }); got > ref {
		t.Errorf("%v allocations per Run, the reference program makes %v", got, ref)
	}
}

// TestNormTies: rows whose t_j = DivRound(D_j·2^(F+P), den) is an exact
// tie. With v = 4^(F+1), den = 2^(F+P+1) exactly, so an odd D_j gives
// D_j·2^(F+P)/den = D_j/2. Rows of ±1 (zero point 0) have floor(Q/n) = 1
// for RMSNorm; ε = 4^(F+1) − 1 makes v = 4^(F+1).
func TestNormTies(t *testing.T) {
	g := newGen(116)
	for _, n := range []int{2, 3, 5, 17, 300} {
		for f := uint32(0); f < 4; f++ {
			for _, op := range []inference.Op{inference.OpRMSNorm, inference.OpLayerNorm} {
				a := inference.NormAttrs{FractionBits: f, Epsilon: 1<<(2*(f+1)) - 1, Shift: 0, QMin: -32768, QMax: 32767}
				gamma, beta := make([]int64, n), make([]int64, n)
				for j := range gamma {
					gamma[j] = 1
				}
				var b inference.Builder
				x := b.Input(inference.Spec{DType: inference.Int8, Shape: []int{50, n}})
				b.Output(b.Node(op, &a, inference.Spec{DType: inference.Int16, Shape: []int{50, n}}, x,
					b.Const(inference.Int32, 0, []int{n}, gamma), b.Const(inference.Int32, 0, []int{n}, beta)))
				m := build(t, &b)
				in := make([]byte, 50*n)
				for i := range in {
					in[i] = []byte{1, 0xff}[g.intn(2)]
				}
				checkRef(t, fmt.Sprintf("%s ties n=%d F=%d", op, n, f), m, in)
			}
		}
	}
}
