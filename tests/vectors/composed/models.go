package composed

import (
	"math"

	"github.com/infergeth/infergeth/inference"
)

// mlp: 96 → 64 → 32 → 10 with ReLU, outputs the logits and their ArgMax.
func mlp(g *graph) []byte { return mlpInput(g) }

func mlpInput(g *graph) []byte {
	x := g.b.Input(i8(-3, 1, 96))
	h := g.fc(x, 64, -128, true)
	h = g.fc(h, 32, -128, true)
	logits := g.fc(h, 10, 5, false)
	class := g.b.Node(inference.OpArgMax, &inference.ArgMaxAttrs{Axis: 1}, inference.Spec{DType: inference.Int32, Shape: []int{1}}, logits)
	g.b.Output(logits, class)
	return g.randomInput(x)
}

// cnn: 12x12x1 → Conv3x3(8) ReLU → MaxPool2 → DWConv3x3(x2) → Conv1x1(16)
// ReLU → global AvgPool → FC(10) → Softmax.
func cnn(g *graph) []byte { return cnnInput(g) }

func cnnInput(g *graph) []byte {
	x := g.b.Input(i8(0, 1, 12, 12, 1))
	h := g.conv(x, 8, 3, 1, 1, true)
	hs := g.spec(h)
	hs.Shape = []int{1, 6, 6, 8}
	h = g.b.Node(inference.OpMaxPool2D, &inference.Pool2DAttrs{KernelH: 2, KernelW: 2, StrideH: 2, StrideW: 2}, hs, h)
	h = g.depthwise(h, 3, 1, 1, 2)
	h = g.conv(h, 16, 1, 1, 0, true)
	ps := g.spec(h)
	ps.Shape = []int{1, 1, 1, 16}
	h = g.b.Node(inference.OpAvgPool2D, &inference.Pool2DAttrs{KernelH: 6, KernelW: 6, StrideH: 1, StrideW: 1}, ps, h)
	rs := g.spec(h)
	rs.Shape = []int{1, 16}
	h = g.b.Node(inference.OpReshape, &inference.NoAttrs{}, rs, h)
	logits := g.fc(h, 10, 0, false)
	probs := g.softmax(logits, 1.0/16)
	g.b.Output(probs)
	return g.randomInput(x)
}

// softmax over the last axis with an exp table for input scale inScale and
// output scale 1/256 (zero point -128).
func (g *graph) softmax(x int, inScale float64) int {
	vals := make([]int64, 256)
	for d := range vals {
		vals[d] = int64(math.Floor(65536*math.Exp(-float64(d)*inScale) + 0.5))
	}
	table := g.b.Const(inference.Int32, 0, []int{256}, vals)
	return g.b.Node(inference.OpSoftmax, &inference.SoftmaxAttrs{OutputScale: 256, QMin: -128, QMax: 127},
		i8(-128, g.b.Shape(x)...), x, table)
}

// transformer: one pre-norm block over 8 tokens of width 16 with two heads,
// from int32 token ids through an embedding, then mean-pooled to 4 classes.
func transformer(g *graph) []byte {
	const seq, d, heads, dh, ffn, vocab = 8, 16, 2, 8, 32, 32
	ids := g.b.Input(inference.Spec{DType: inference.Int32, Shape: []int{seq}})
	emb := g.b.Const(inference.Int8, 0, []int{vocab, d}, g.rng.values(vocab*d, -100, 100))
	x := g.b.Node(inference.OpGather, &inference.NoAttrs{}, i8(0, seq, d), emb, ids)

	h := g.norm(inference.OpLayerNorm, x)
	q := g.fc(h, d, 0, false)
	k := g.fc(h, d, 0, false)
	v := g.fc(h, d, 0, false)
	split := func(t int) int { // [seq, d] → [heads, seq, dh]
		r := g.b.Node(inference.OpReshape, &inference.NoAttrs{}, i8(0, seq, heads, dh), t)
		return g.b.Node(inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0, 2}}, i8(0, heads, seq, dh), r)
	}
	qh, kh, vh := split(q), split(k), split(v)
	scores := g.b.Node(inference.OpMatMul, &inference.MatMulAttrs{TransposeB: 1, Multiplier: 1 << 30, Shift: 37, QMin: -128, QMax: 127},
		i8(0, heads, seq, seq), qh, kh)
	attn := g.softmax(scores, 1.0/8)
	ctx := g.b.Node(inference.OpMatMul, &inference.MatMulAttrs{Multiplier: 1 << 30, Shift: 38, QMin: -128, QMax: 127},
		i8(0, heads, seq, dh), attn, vh)
	merged := g.b.Node(inference.OpTranspose, &inference.TransposeAttrs{Perm: [6]uint32{1, 0, 2}}, i8(0, seq, heads, dh), ctx)
	merged = g.b.Node(inference.OpReshape, &inference.NoAttrs{}, i8(0, seq, d), merged)
	proj := g.fc(merged, d, 0, false)
	x = g.b.Node(inference.OpAdd, &inference.AddAttrs{MultiplierA: 1, MultiplierB: 1, Shift: 1, QMin: -128, QMax: 127}, i8(0, seq, d), x, proj)

	h = g.norm(inference.OpRMSNorm, x)
	up := g.fc(h, ffn, 0, false)
	gelu := g.table(func(v float64) float64 { return 0.5 * v * (1 + math.Tanh(0.7978845608*(v+0.044715*v*v*v))) }, 1.0/32, 1.0/32)
	up = g.b.Node(inference.OpLookup, &inference.NoAttrs{}, i8(0, seq, ffn), up, gelu)
	down := g.fc(up, d, 0, false)
	x = g.b.Node(inference.OpAdd, &inference.AddAttrs{MultiplierA: 1, MultiplierB: 1, Shift: 1, QMin: -128, QMax: 127}, i8(0, seq, d), x, down)

	pooled := g.b.Node(inference.OpMean, &inference.MeanAttrs{Axes: 1}, i8(0, d), x)
	logits := g.fc(pooled, 4, 0, false)
	g.b.Output(logits)

	in := make([]byte, 4*seq)
	for i := 0; i < seq; i++ {
		inference.Store(in, inference.Int32, i, g.rng.intn(0, vocab-1))
	}
	return in
}

// norm adds LayerNorm or RMSNorm with random positive γ and small β,
// output ≈ 24·normalised.
func (g *graph) norm(op inference.Op, x int) int {
	n := g.b.Shape(x)[len(g.b.Shape(x))-1]
	gamma := g.b.Const(inference.Int32, 0, []int{n}, g.rng.values(n, 16, 32))
	beta := g.b.Const(inference.Int32, 0, []int{n}, g.rng.values(n, -512, 512))
	return g.b.Node(op, &inference.NormAttrs{FractionBits: 8, Epsilon: 1, Shift: 8, QMin: -128, QMax: 127}, g.spec(x), x, gamma, beta)
}

// ties: every requantization in the chain lands on exact halves, positive
// and negative, at several shifts.
func ties(g *graph) []byte {
	x := g.b.Input(i8(0, 16))
	a := g.b.Node(inference.OpRequantize, &inference.RequantizeAttrs{Multiplier: 1, Shift: 1, QMin: -128, QMax: 127}, i8(0, 16), x)
	b := g.b.Node(inference.OpRequantize, &inference.RequantizeAttrs{Multiplier: 3, Shift: 2, QMin: -128, QMax: 127}, i8(0, 16), x)
	w := g.b.Const(inference.Int8, 0, []int{2, 16}, append(fillValues(16, 1), fillValues(16, -1)...))
	bias := g.b.Const(inference.Int32, 0, []int{2}, []int64{0, 0})
	m := g.b.Const(inference.Int32, 0, []int{2}, []int64{1, 1})
	s := g.b.Const(inference.Int8, 0, []int{2}, []int64{5, 5})
	sum := g.b.Node(inference.OpFullyConnected, &inference.FullyConnectedAttrs{QMin: -128, QMax: 127}, i8(0, 2), x, w, bias, m, s)
	avg := g.b.Node(inference.OpAdd, &inference.AddAttrs{MultiplierA: 1, MultiplierB: 1, Shift: 1, QMin: -128, QMax: 127}, i8(0, 16), a, b)
	g.b.Output(a, b, sum, avg)
	// Odd values halve to ties; values ≡ 2 mod 4 times 3 quarter to ties;
	// the two sums are ±16·... chosen so /32 is a tie.
	vals := []int64{1, -1, 3, -3, 5, -5, 2, -2, 6, -6, 10, -10, 127, -127, -128, 0}
	in := make([]byte, 16)
	for i, v := range vals {
		in[i] = byte(int8(v))
	}
	return in
}

func fillValues(n int, v int64) []int64 {
	out := make([]int64, n)
	for i := range out {
		out[i] = v
	}
	return out
}

// maxK: the longest dot product the proof allows for two activations at
// opposite zero points (33025·255·255 ≤ 2^31-1), fed the extreme input.
func maxK(g *graph) []byte {
	const k = 33025
	a := g.b.Input(i8(127, 1, k))
	b := g.b.Input(i8(-128, k, 1))
	y := g.b.Node(inference.OpMatMul, &inference.MatMulAttrs{Multiplier: 1, Shift: 0, QMin: math.MinInt32, QMax: math.MaxInt32},
		inference.Spec{DType: inference.Int32, Shape: []int{1, 1}}, a, b)
	g.b.Output(y)
	in := g.inputBytes(a, b)
	fill(in[:k], -128)
	fill(in[k:], 127)
	return in
}

// oddShapes: prime-sized tensors, stride 2, dilation 2, a depth multiplier
// of 3 and asymmetric padding, so no kernel can rely on round sizes.
func oddShapes(g *graph) []byte {
	x := g.b.Input(i8(7, 2, 7, 5, 3))
	wt := g.b.Const(inference.Int8, 0, []int{5, 3, 2, 3}, g.rng.values(5*3*2*3, -127, 127))
	bias := g.b.Const(inference.Int32, 0, []int{5}, g.rng.values(5, -300, 300))
	m, s := g.requant(5, 18)
	ca := inference.Conv2DAttrs{StrideH: 2, StrideW: 1, DilationH: 1, DilationW: 2, PadTop: 2, PadLeft: 1, PadBottom: 0, PadRight: 2, QMin: -128, QMax: 127}
	oh := inference.ConvOutput(7, 3, 2, 1, 2, 0)
	ow := inference.ConvOutput(5, 2, 1, 2, 1, 2)
	h := g.b.Node(inference.OpConv2D, &ca, i8(-1, 2, oh, ow, 5), x, wt, bias, m, s)
	h = g.depthwise(h, 3, 2, 1, 3)
	hs := g.b.Shape(h)
	flat := g.b.Node(inference.OpReshape, &inference.NoAttrs{}, i8(g.b.Tensor(h).ZeroPoint, hs[0], hs[1]*hs[2]*hs[3]), h)
	y := g.fc(flat, 7, 0, false)
	g.b.Output(y)
	return g.randomInput(x)
}
