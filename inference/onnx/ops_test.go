package onnx

import (
	"slices"
	"strings"
	"testing"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Each test below builds a small ONNX graph around one op, imports it and
// compares the engine (reference backend) with the evaluator's exact ONNX
// semantics on random inputs. The tolerance is the requantization
// difference: round half up and a 31-bit multiplier instead of float
// arithmetic rounding half to even, at most one step, on few elements.

func convWeights(g *ob.Graph, seed uint64, oc, icg, kh, kw int) string {
	r := rng(seed)
	return g.DequantizedWeights("w", []int64{int64(oc), int64(icg), int64(kh), int64(kw)}, randInt8(r, oc*icg*kh*kw, -127, 127), scales(r, oc, 0.02), 0)
}

func TestConvQDQ(t *testing.T) {
	cases := []struct {
		name       string
		c, oc      int
		group      int
		k          int
		attrs      []*onnxpb.AttributeProto
		h, w       int
		wantOps    []string
		withBias   bool
		oneD       bool
		reluFused  bool
		maxPoolMid bool
	}{
		{name: "3x3 pad 1", c: 3, oc: 8, group: 1, k: 3, h: 8, w: 8, attrs: []*onnxpb.AttributeProto{ob.AttrInts("pads", 1, 1, 1, 1)}, wantOps: []string{"Transpose", "Conv2D", "Transpose"}, withBias: true},
		{name: "stride 2 dilation 2", c: 4, oc: 5, group: 1, k: 3, h: 11, w: 9, attrs: []*onnxpb.AttributeProto{ob.AttrInts("strides", 2, 2), ob.AttrInts("dilations", 2, 2), ob.AttrInts("pads", 2, 1, 0, 2)}, wantOps: []string{"Transpose", "Conv2D", "Transpose"}},
		{name: "same upper", c: 2, oc: 3, group: 1, k: 4, h: 7, w: 6, attrs: []*onnxpb.AttributeProto{ob.AttrString("auto_pad", "SAME_UPPER"), ob.AttrInts("strides", 2, 1)}, wantOps: []string{"Transpose", "Conv2D", "Transpose"}, reluFused: true},
		{name: "depthwise", c: 6, oc: 12, group: 6, k: 3, h: 5, w: 5, attrs: []*onnxpb.AttributeProto{ob.AttrInts("pads", 1, 1, 1, 1)}, wantOps: []string{"Transpose", "DepthwiseConv2D", "Transpose"}, withBias: true},
		{name: "one channel", c: 1, oc: 4, group: 1, k: 3, h: 6, w: 6, wantOps: []string{"Reshape", "Conv2D", "Transpose"}},
		{name: "1-D", c: 3, oc: 4, group: 1, k: 3, h: 1, w: 10, oneD: true, attrs: []*onnxpb.AttributeProto{ob.AttrInts("pads", 1, 1)}, wantOps: []string{"Reshape", "Transpose", "Conv2D", "Transpose", "Reshape"}},
		{name: "conv maxpool conv", c: 2, oc: 4, group: 1, k: 3, h: 8, w: 8, attrs: []*onnxpb.AttributeProto{ob.AttrInts("pads", 1, 1, 1, 1)}, maxPoolMid: true, wantOps: []string{"Transpose", "Conv2D", "MaxPool2D", "Conv2D", "Transpose"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			g := ob.New("conv", 13)
			dims := []int64{1, int64(tc.c), int64(tc.h), int64(tc.w)}
			if tc.oneD {
				dims = []int64{1, int64(tc.c), int64(tc.w)}
			}
			x := g.QDQ(g.Input("x", ob.Float, dims...), qU8)
			var w string
			if tc.oneD {
				r := rng(3)
				w = g.DequantizedWeights("w", []int64{int64(tc.oc), int64(tc.c / tc.group), int64(tc.k)}, randInt8(r, tc.oc*tc.c/tc.group*tc.k, -127, 127), scales(r, tc.oc, 0.02), 0)
			} else {
				w = convWeights(g, 3, tc.oc, tc.c/tc.group, tc.k, tc.k)
			}
			ins := []string{x, w}
			if tc.withBias {
				ins = append(ins, g.DequantizedBias("b", randInt32(rng(4), tc.oc, 2000), []float32{qU8.Scale * 0.02}))
			}
			attrs := append([]*onnxpb.AttributeProto{ob.AttrInt("group", int64(tc.group))}, tc.attrs...)
			y := g.Node("Conv", ins, attrs...)
			if tc.reluFused {
				y = g.Node("Relu", []string{y})
			}
			y = g.QDQ(y, qMid)
			if tc.maxPoolMid {
				y = g.QDQ(g.Node("MaxPool", []string{y}, ob.AttrInts("kernel_shape", 2, 2), ob.AttrInts("strides", 2, 2)), qMid)
				w2 := convWeights(g, 5, 3, tc.oc, 1, 1)
				y = g.QDQ(g.Node("Conv", []string{y, w2}), qOut)
			}
			g.Output(y, ob.Float)
			res, _ := checkModel(t, g, 16, 1, 0.02)
			if got := engineOps(res); !slices.Equal(got, tc.wantOps) {
				t.Errorf("ops %v, want %v", got, tc.wantOps)
			}
		})
	}
}

func TestCNNFlattenGemmPermutesWeightsNotData(t *testing.T) {
	r := rng(9)
	g := ob.New("cnn", 13)
	x := g.QDQ(g.Input("x", ob.Float, 1, 2, 6, 6), qU8)
	y := g.QDQ(g.Node("Conv", []string{x, convWeights(g, 1, 4, 2, 3, 3)}, ob.AttrInts("pads", 1, 1, 1, 1)), qMid)
	y = g.Node("Flatten", []string{y})
	w := g.DequantizedWeights("fc", []int64{5, 144}, randInt8(r, 5*144, -127, 127), scales(r, 5, 0.01), 0)
	b := g.DequantizedBias("fcb", randInt32(r, 5, 1000), []float32{0.1 * 0.01})
	y = g.QDQ(g.Node("Gemm", []string{y, w, b}, ob.AttrInt("transB", 1)), qOut)
	g.Output(y, ob.Float, 1, 5)
	res, _ := checkModel(t, g, 16, 1, 0.05)
	if got, want := engineOps(res), []string{"Transpose", "Conv2D", "Reshape", "FullyConnected"}; !slices.Equal(got, want) {
		t.Errorf("ops %v, want %v", got, want)
	}
}

func TestGlobalAveragePoolAndPools(t *testing.T) {
	for _, tc := range []struct {
		name  string
		op    string
		attrs []*onnxpb.AttributeProto
		out   ob.Quant
		ops   []string
		ties  float64 // AvgPool2D rounds half up, ONNX half to even: ties differ
	}{
		{"gap requantized", "GlobalAveragePool", nil, qOut, []string{"Transpose", "DepthwiseConv2D", "Reshape"}, 0},
		{"gap same scale", "GlobalAveragePool", nil, qU8, []string{"Transpose", "AvgPool2D", "Reshape"}, 0},
		{"avgpool pads", "AveragePool", []*onnxpb.AttributeProto{ob.AttrInts("kernel_shape", 3, 3), ob.AttrInts("pads", 1, 1, 1, 1)}, qOut, []string{"Transpose", "AvgPool2D", "Requantize", "Transpose"}, 0},
		{"avgpool count pads", "AveragePool", []*onnxpb.AttributeProto{ob.AttrInts("kernel_shape", 3, 3), ob.AttrInts("pads", 1, 1, 1, 1), ob.AttrInt("count_include_pad", 1)}, qOut, []string{"Transpose", "DepthwiseConv2D", "Transpose"}, 0},
		{"avgpool stride", "AveragePool", []*onnxpb.AttributeProto{ob.AttrInts("kernel_shape", 2, 2), ob.AttrInts("strides", 2, 2)}, qU8, []string{"Transpose", "AvgPool2D", "Transpose"}, 0.2},
		{"maxpool", "MaxPool", []*onnxpb.AttributeProto{ob.AttrInts("kernel_shape", 3, 3), ob.AttrInts("strides", 2, 2), ob.AttrInts("pads", 1, 1, 1, 1)}, qU8, []string{"Transpose", "MaxPool2D", "Transpose"}, 0},
		{"globalmaxpool", "GlobalMaxPool", nil, qU8, []string{"Transpose", "MaxPool2D", "Reshape"}, 0},
		{"reducemean spatial", "ReduceMean", []*onnxpb.AttributeProto{ob.AttrInts("axes", 2, 3)}, qOut, []string{"Transpose", "DepthwiseConv2D", "Reshape"}, 0},
		{"reducemean channels", "ReduceMean", []*onnxpb.AttributeProto{ob.AttrInts("axes", 1), ob.AttrInt("keepdims", 0)}, qOut, []string{"Mean", "Requantize"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := ob.New("pool", 13)
			x := g.QDQ(g.Input("x", ob.Float, 1, 3, 7, 7), qU8)
			y := g.QDQ(g.Node(tc.op, []string{x}, tc.attrs...), tc.out)
			g.Output(y, ob.Float)
			res, _ := checkModel(t, g, 32, 1, max(0.05, tc.ties))
			if got := engineOps(res); !slices.Equal(got, tc.ops) {
				t.Errorf("ops %v, want %v", got, tc.ops)
			}
		})
	}
}

func TestElementwise(t *testing.T) {
	r := rng(11)
	for _, tc := range []struct {
		name  string
		build func(g *ob.Graph, a, b string) string
		ops   []string
		step  int64
	}{
		{"add", func(g *ob.Graph, a, b string) string { return g.Node("Add", []string{a, b}) }, []string{"Add"}, 1},
		{"mul", func(g *ob.Graph, a, b string) string { return g.Node("Mul", []string{a, b}) }, []string{"Mul"}, 1},
		{"add relu", func(g *ob.Graph, a, b string) string { return g.Node("Relu", []string{g.Node("Add", []string{a, b})}) }, []string{"Add"}, 1},
		{"add const tensor", func(g *ob.Graph, a, b string) string {
			return g.Node("Add", []string{a, g.Init(ob.FloatTensor("c", []int64{4}, []float32{0.5, -1, 2, 0.25}))})
		}, []string{"Add"}, 1},
		{"sub const tensor", func(g *ob.Graph, a, b string) string {
			return g.Node("Sub", []string{a, g.Init(ob.FloatTensor("c", []int64{4}, []float32{0.5, -1, 2, 0.25}))})
		}, []string{"Add"}, 1},
		{"mul scalar", func(g *ob.Graph, a, b string) string {
			return g.Node("Mul", []string{a, g.Init(ob.FloatTensor("c", nil, []float32{-1.5}))})
		}, []string{"Lookup"}, 0},
		{"div scalar", func(g *ob.Graph, a, b string) string {
			return g.Node("Div", []string{a, g.Init(ob.FloatTensor("c", nil, []float32{3}))})
		}, []string{"Lookup"}, 0},
		{"sigmoid", func(g *ob.Graph, a, b string) string { return g.Node("Sigmoid", []string{a}) }, []string{"Lookup"}, 0},
		{"tanh", func(g *ob.Graph, a, b string) string { return g.Node("Tanh", []string{a}) }, []string{"Lookup"}, 0},
		{"leakyrelu", func(g *ob.Graph, a, b string) string {
			return g.Node("LeakyRelu", []string{a}, ob.AttrFloat("alpha", 0.1))
		}, []string{"Lookup"}, 0},
		{"hardswish", func(g *ob.Graph, a, b string) string { return g.Node("HardSwish", []string{a}) }, []string{"Lookup"}, 0},
		{"clip", func(g *ob.Graph, a, b string) string {
			return g.Node("Clip", []string{a, g.Init(ob.FloatTensor("lo", nil, []float32{-1})), g.Init(ob.FloatTensor("hi", nil, []float32{2}))})
		}, []string{"Clamp", "Requantize"}, 1},
		{"relu same scale", func(g *ob.Graph, a, b string) string { return g.Node("Relu", []string{a}) }, []string{"Clamp", "Requantize"}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := ob.New("ew", 13)
			a := g.QDQ(g.Input("a", ob.Float, 1, 3, 4), qIn)
			b := g.QDQ(g.Input("b", ob.Float, 3, 1), qMid)
			y := g.QDQ(tc.build(g, a, b), qOut)
			g.Output(y, ob.Float)
			res, _ := checkModel(t, g, 32, max(tc.step, 1), 0.05)
			if got := engineOps(res); !slices.Equal(got, tc.ops) {
				t.Errorf("ops %v, want %v", got, tc.ops)
			}
		})
	}
	_ = r
}

func TestShapeOps(t *testing.T) {
	for _, tc := range []struct {
		name  string
		build func(g *ob.Graph, x string) string
		ops   []string
	}{
		{"transpose", func(g *ob.Graph, x string) string {
			return g.Node("Transpose", []string{x}, ob.AttrInts("perm", 0, 2, 1))
		}, []string{"Transpose"}},
		{"reshape", func(g *ob.Graph, x string) string {
			return g.Node("Reshape", []string{x, g.Init(ob.Int64Tensor("s", []int64{2}, []int64{4, -1}))})
		}, []string{"Reshape"}},
		{"transpose transpose", func(g *ob.Graph, x string) string {
			return g.Node("Transpose", []string{g.Node("Transpose", []string{x}, ob.AttrInts("perm", 1, 2, 0))}, ob.AttrInts("perm", 2, 0, 1))
		}, []string{"Reshape"}},
		{"squeeze unsqueeze", func(g *ob.Graph, x string) string {
			u := g.Node("Unsqueeze", []string{x, g.Init(ob.Int64Tensor("a", []int64{1}, []int64{0}))})
			return g.Node("Squeeze", []string{u, g.Init(ob.Int64Tensor("a", []int64{1}, []int64{0}))})
		}, []string{"Reshape"}}, // the output is the input: copied
		{"concat", func(g *ob.Graph, x string) string {
			return g.Node("Concat", []string{x, x}, ob.AttrInt("axis", 2))
		}, []string{"Concat"}},
		{"gather const", func(g *ob.Graph, x string) string {
			return g.Node("Gather", []string{x, g.Init(ob.Int64Tensor("i", []int64{3}, []int64{2, 0, -1}))}, ob.AttrInt("axis", 1))
		}, []string{"Reshape", "Gather", "Reshape"}},
		{"flatten", func(g *ob.Graph, x string) string { return g.Node("Flatten", []string{x}, ob.AttrInt("axis", 2)) }, []string{"Reshape"}},
		{"shape arithmetic", func(g *ob.Graph, x string) string {
			s := g.Node("Shape", []string{x})
			idx := g.Init(ob.Int64Tensor("i", nil, []int64{2}))
			last := g.Node("Gather", []string{s, idx})
			neg := g.Init(ob.Int64Tensor("m1", []int64{1}, []int64{-1}))
			shape := g.Node("Concat", []string{neg, g.Node("Unsqueeze", []string{last, g.Init(ob.Int64Tensor("z", []int64{1}, []int64{0}))})}, ob.AttrInt("axis", 0))
			return g.Node("Reshape", []string{x, shape})
		}, []string{"Reshape"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := ob.New("shape", 13)
			x := g.QDQ(g.Input("x", ob.Float, 1, 4, 3), qIn)
			y := g.QDQ(tc.build(g, x), qIn)
			g.Output(y, ob.Float)
			res, gap := checkModel(t, g, 8, 0, 0)
			if gap.Differing != 0 {
				t.Errorf("%d elements differ", gap.Differing)
			}
			if got := engineOps(res); !slices.Equal(got, tc.ops) && !(len(got) == 0 && tc.ops == nil) {
				t.Errorf("ops %v, want %v", got, tc.ops)
			}
		})
	}
}

func TestConcatRequantizesToOutput(t *testing.T) {
	g := ob.New("concat", 13)
	a := g.QDQ(g.Input("a", ob.Float, 1, 4), qIn)
	b := g.QDQ(g.Input("b", ob.Float, 1, 2), qMid)
	c := g.Init(ob.FloatTensor("c", []int64{1, 2}, []float32{0.5, -2}))
	y := g.QDQ(g.Node("Concat", []string{a, b, c}, ob.AttrInt("axis", 1)), qOut)
	g.Output(y, ob.Float, 1, 8)
	checkModel(t, g, 32, 1, 0.05)
}

func TestEmbeddingGatherFromInput(t *testing.T) {
	r := rng(5)
	g := ob.New("emb", 13)
	ids := g.Input("ids", ob.Int64, 1, 5)
	table := g.Dequantize(g.Init(ob.Int8Tensor("table", []int64{10, 4}, randInt8(r, 40, -128, 127))), qMid)
	y := g.QDQ(g.Node("Gather", []string{table, ids}), qMid)
	g.Output(y, ob.Float, 1, 5, 4)
	res, gap := checkModel(t, g, 16, 0, 0)
	if gap.Differing != 0 {
		t.Errorf("%d differ", gap.Differing)
	}
	if got := engineOps(res); !slices.Equal(got, []string{"Gather"}) {
		t.Errorf("ops %v", got)
	}
	if res.Report.Inputs[0].DType.String() != "int32" {
		t.Errorf("ids input is %s", res.Report.Inputs[0].DType)
	}
}

func TestArgMaxOutput(t *testing.T) {
	g := ob.New("argmax", 13)
	x := g.QDQ(g.Input("x", ob.Float, 2, 7), qIn)
	y := g.Node("ArgMax", []string{x}, ob.AttrInt("axis", 1), ob.AttrInt("keepdims", 0))
	g.Output(y, ob.Int64, 2)
	_, gap := checkModel(t, g, 32, 0, 0)
	if gap.Differing != 0 {
		t.Errorf("%d differ", gap.Differing)
	}
}

func TestSoftmaxAndLayerNorm(t *testing.T) {
	r := rng(21)
	soft := ob.Quant{Scale: 1.0 / 256, Zero: -128, Type: ob.Int8}
	for _, tc := range []struct {
		name  string
		build func(g *ob.Graph, x string) string
		q     ob.Quant
		ops   []string
	}{
		{"softmax", func(g *ob.Graph, x string) string { return g.Node("Softmax", []string{x}) }, soft, []string{"Softmax"}},
		{"softmax axis 1", func(g *ob.Graph, x string) string { return g.Node("Softmax", []string{x}, ob.AttrInt("axis", 1)) }, soft, []string{"Transpose", "Softmax", "Transpose"}},
		{"layernorm", func(g *ob.Graph, x string) string {
			gamma := make([]float32, 16)
			beta := make([]float32, 16)
			for i := range gamma {
				gamma[i] = 0.5 + r.Float32()
				beta[i] = r.Float32() - 0.5
			}
			return g.Node("LayerNormalization", []string{x, g.Init(ob.FloatTensor("g", []int64{16}, gamma)), g.Init(ob.FloatTensor("b", []int64{16}, beta))}, ob.AttrFloat("epsilon", 1e-5))
		}, qMid, []string{"LayerNorm"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := ob.New("norm", 17)
			x := g.QDQ(g.Input("x", ob.Float, 1, 3, 16), qIn)
			y := g.QDQ(tc.build(g, x), tc.q)
			g.Output(y, ob.Float)
			res, gap := checkModel(t, g, 32, 1, 0.05)
			t.Logf("%d of %d differ, max %d", gap.Differing, gap.Elements, gap.MaxStepDiff)
			if got := engineOps(res); !slices.Equal(got, tc.ops) {
				t.Errorf("ops %v, want %v", got, tc.ops)
			}
		})
	}
}

// attention builds single-head self-attention with a residual: the shape
// of the tiny transformer block's core.
func TestAttention(t *testing.T) {
	r := rng(31)
	const T, D = 6, 8
	g := ob.New("attn", 17)
	x := g.QDQ(g.Input("x", ob.Float, 1, T, D), qIn)
	proj := func(name string) string {
		w := g.DequantizedWeights(name, []int64{D, D}, randInt8(r, D*D, -127, 127), scales(r, D, 0.03), 1)
		return g.QDQ(g.Node("MatMul", []string{x, w}), qMid)
	}
	q, k, v := proj("wq"), proj("wk"), proj("wv")
	kt := g.Node("Transpose", []string{k}, ob.AttrInts("perm", 0, 2, 1))
	s := g.QDQ(g.Node("MatMul", []string{q, kt}), ob.Quant{Scale: 0.4917, Zero: 0, Type: ob.Int8})
	s = g.QDQ(g.Node("Mul", []string{s, g.Init(ob.FloatTensor("scale", nil, []float32{0.35}))}), ob.Quant{Scale: 0.1913, Type: ob.Int8})
	p := g.QDQ(g.Node("Softmax", []string{s}), ob.Quant{Scale: 1.0 / 256, Zero: -128, Type: ob.Int8})
	o := g.QDQ(g.Node("MatMul", []string{p, v}), qMid)
	y := g.QDQ(g.Node("Add", []string{o, x}), qOut)
	g.Output(y, ob.Float, 1, T, D)
	res, gap := checkModel(t, g, 16, 2, 0.1)
	t.Logf("%d of %d differ, max %d; ops %v", gap.Differing, gap.Elements, gap.MaxStepDiff, engineOps(res))
	if n := strings.Count(strings.Join(engineOps(res), " "), "Transpose"); n != 0 {
		t.Errorf("%d Transpose nodes: Kᵀ should be read with transposeB", n)
	}
}

func TestQOperatorOps(t *testing.T) {
	r := rng(41)
	u8 := func(g *ob.Graph, q ob.Quant) (string, string) { return g.Params(q) }
	t.Run("qlinearconv qlinearmatmul", func(t *testing.T) {
		g := ob.New("qop", 13)
		x := g.Quantize(g.Input("x", ob.Float, 1, 2, 5, 5), qU8)
		xs, xz := u8(g, qU8)
		w := g.Init(ob.Int8Tensor("w", []int64{4, 2, 3, 3}, randInt8(r, 72, -127, 127)))
		ws := g.Init(ob.FloatTensor("ws", []int64{4}, scales(r, 4, 0.02)))
		wz := g.Init(ob.Int8Tensor("wz", []int64{4}, make([]int8, 4)))
		ys, yz := u8(g, qMid)
		b := g.Init(ob.Int32Tensor("b", []int64{4}, randInt32(r, 4, 500)))
		y := g.Node("QLinearConv", []string{x, xs, xz, w, ws, wz, ys, yz, b}, ob.AttrInts("pads", 1, 1, 1, 1))
		y = g.Node("Reshape", []string{y, g.Init(ob.Int64Tensor("s", []int64{2}, []int64{1, 100}))})
		m := g.Init(ob.Int8Tensor("m", []int64{100, 3}, randInt8(r, 300, -127, 127)))
		ms := g.Init(ob.FloatTensor("ms", nil, []float32{0.01}))
		mz := g.Init(ob.Int8Tensor("mz", nil, []int8{0}))
		os, oz := u8(g, qOut)
		ys2, yz2 := u8(g, qMid)
		y = g.Node("QLinearMatMul", []string{y, ys2, yz2, m, ms, mz, os, oz})
		y = g.Dequantize(y, qOut)
		g.Output(y, ob.Float, 1, 3)
		checkModel(t, g, 16, 1, 0.1)
	})
	t.Run("matmulinteger chain", func(t *testing.T) {
		g := ob.New("mmi", 13)
		x := g.Quantize(g.Input("x", ob.Float, 1, 12), qU8)
		_, xz := u8(g, qU8)
		w := g.Init(ob.Int8Tensor("w", []int64{12, 5}, randInt8(r, 60, -127, 127)))
		wz := g.Init(ob.Int8Tensor("wz", nil, []int8{0}))
		acc := g.Node("MatMulInteger", []string{x, w, xz, wz})
		f := g.Node("Cast", []string{acc}, ob.AttrInt("to", int64(ob.Float)))
		f = g.Node("Mul", []string{f, g.Init(ob.FloatTensor("s", nil, []float32{qU8.Scale * 0.02}))})
		f = g.Node("Add", []string{f, g.Init(ob.FloatTensor("bias", []int64{5}, []float32{0.1, -0.2, 0.3, 0, 1}))})
		y := g.QDQ(f, qOut)
		g.Output(y, ob.Float, 1, 5)
		res, _ := checkModel(t, g, 16, 1, 0.1)
		if got := engineOps(res); !slices.Equal(got, []string{"FullyConnected"}) {
			t.Errorf("ops %v", got)
		}
	})
	t.Run("qlinearadd mul sigmoid leakyrelu softmax gap concat", func(t *testing.T) {
		g := ob.New("ms", 13)
		g.UseDomain(ob.MicrosoftDomain, 1)
		a := g.Quantize(g.Input("a", ob.Float, 1, 3, 4, 4), qU8)
		b := g.Quantize(g.Input("b", ob.Float, 1, 3, 4, 4), qIn)
		as, az := u8(g, qU8)
		bs, bz := u8(g, qIn)
		ms, mz := u8(g, qMid)
		sum := g.NodeIn(ob.MicrosoftDomain, "QLinearAdd", []string{a, as, az, b, bs, bz, ms, mz}, 1)[0]
		prod := g.NodeIn(ob.MicrosoftDomain, "QLinearMul", []string{sum, ms, mz, b, bs, bz, ms, mz}, 1)[0]
		sig := g.NodeIn(ob.MicrosoftDomain, "QLinearSigmoid", []string{prod, ms, mz, as, az}, 1)[0]
		lr := g.NodeIn(ob.MicrosoftDomain, "QLinearLeakyRelu", []string{prod, ms, mz, ms, mz}, 1, ob.AttrFloat("alpha", 0.2))[0]
		cat := g.NodeIn(ob.MicrosoftDomain, "QLinearConcat", []string{ms, mz, sig, as, az, lr, ms, mz}, 1, ob.AttrInt("axis", 1))[0]
		gap := g.NodeIn(ob.MicrosoftDomain, "QLinearGlobalAveragePool", []string{cat, ms, mz, ms, mz}, 1)[0]
		fl := g.Node("Flatten", []string{gap})
		ss, sz := u8(g, ob.Quant{Scale: 1.0 / 256, Zero: 0, Type: ob.Uint8})
		sm := g.NodeIn(ob.MicrosoftDomain, "QLinearSoftmax", []string{fl, ms, mz, ss, sz}, 1, ob.AttrInt("axis", -1), ob.AttrInt("opset", 13))[0]
		y := g.Dequantize(sm, ob.Quant{Scale: 1.0 / 256, Zero: 0, Type: ob.Uint8})
		g.Output(y, ob.Float, 1, 6)
		// A one-step difference (an AvgPool2D tie) before the Softmax moves
		// probabilities by several 1/256 steps.
		res, gap2 := checkModel(t, g, 16, 4, 0.2)
		t.Logf("ops %v; %d of %d differ", engineOps(res), gap2.Differing, gap2.Elements)
	})
	t.Run("qgemm", func(t *testing.T) {
		g := ob.New("qgemm", 13)
		g.UseDomain(ob.MicrosoftDomain, 1)
		x := g.Quantize(g.Input("x", ob.Float, 1, 10), qU8)
		xs, xz := u8(g, qU8)
		w := g.Init(ob.Int8Tensor("w", []int64{6, 10}, randInt8(r, 60, -127, 127)))
		ws := g.Init(ob.FloatTensor("ws", []int64{6}, scales(r, 6, 0.02)))
		wz := g.Init(ob.Int8Tensor("wz", []int64{6}, make([]int8, 6)))
		c := g.Init(ob.Int32Tensor("c", []int64{6}, randInt32(r, 6, 800)))
		ys, yz := u8(g, qOut)
		y := g.NodeIn(ob.MicrosoftDomain, "QGemm", []string{x, xs, xz, w, ws, wz, c, ys, yz}, 1, ob.AttrInt("transB", 1), ob.AttrFloat("alpha", 0.5))[0]
		g.Output(g.Dequantize(y, qOut), ob.Float, 1, 6)
		checkModel(t, g, 16, 1, 0.1)
	})
}

// A QOperator model whose input is uint8 itself: the engine takes
// uint8 − 128 as int8, with the zero point its first reader names.
func TestUint8GraphInput(t *testing.T) {
	r := rng(51)
	g := ob.New("u8in", 13)
	x := g.Input("x", ob.Uint8, 1, 2, 5, 5)
	xs, xz := g.Params(qU8)
	w := g.Init(ob.Int8Tensor("w", []int64{3, 2, 3, 3}, randInt8(r, 54, -127, 127)))
	ws := g.Init(ob.FloatTensor("ws", nil, []float32{0.02}))
	wz := g.Init(ob.Int8Tensor("wz", nil, []int8{0}))
	ys, yz := g.Params(qMid)
	y := g.Node("QLinearConv", []string{x, xs, xz, w, ws, wz, ys, yz}, ob.AttrInts("pads", 1, 1, 1, 1))
	g.Output(y, ob.Int8, 1, 3, 5, 5)
	res, gap := checkModel(t, g, 16, 1, 0.05)
	in := res.Report.Inputs[0]
	if in.Offset != -128 || in.ZeroPoint != qU8.Zero-128 || in.DType.String() != "int8" {
		t.Errorf("input %+v", in)
	}
	t.Logf("%d of %d differ", gap.Differing, gap.Elements)
}
