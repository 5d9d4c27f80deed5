package zoo

import (
	"math"
	"math/rand/v2"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// The float ONNX graphs of the test models, as an exporter such as
// PyTorch's would write them: NCHW, Gemm with transB for linear layers,
// MatMul + Add in the transformer.

func f32(v []float64) []float32 {
	out := make([]float32, len(v))
	for i, x := range v {
		out[i] = float32(x)
	}
	return out
}

// mlpGraph: x [1, 784] → (Gemm → Relu)* → Gemm → logits [1, 10].
func mlpGraph(m *MLP) *onnxpb.ModelProto {
	g := ob.New("mlp", 13)
	h := g.Input("x", ob.Float, 1, Pixels)
	for i, l := range m.layers {
		w := g.Init(ob.FloatTensor("fc_w", []int64{int64(l.out), int64(l.in)}, f32(l.w)))
		b := g.Init(ob.FloatTensor("fc_b", []int64{int64(l.out)}, f32(l.b)))
		if i == len(m.layers)-1 {
			h = g.NodeTo("logits", "Gemm", []string{h, w, b}, ob.AttrInt("transB", 1))
			break
		}
		h = g.Node("Relu", []string{g.Node("Gemm", []string{h, w, b}, ob.AttrInt("transB", 1))})
	}
	g.Output(h, ob.Float, 1, Classes)
	return g.Model()
}

// cnnGraph: x [1, 1, 28, 28] → Conv → Relu → MaxPool → Conv → Relu →
// MaxPool → Flatten → Gemm → logits [1, 10].
func cnnGraph(m *CNN) *onnxpb.ModelProto {
	g := ob.New("cnn", 13)
	h := g.Input("x", ob.Float, 1, 1, Side, Side)
	for _, c := range []*conv3{m.c1, m.c2} {
		w := g.Init(ob.FloatTensor("conv_w", []int64{int64(c.out), int64(c.in), 3, 3}, f32(c.k.w)))
		b := g.Init(ob.FloatTensor("conv_b", []int64{int64(c.out)}, f32(c.k.b)))
		h = g.Node("Conv", []string{h, w, b}, ob.AttrInts("kernel_shape", 3, 3), ob.AttrInts("pads", 1, 1, 1, 1))
		h = g.Node("Relu", []string{h})
		h = g.Node("MaxPool", []string{h}, ob.AttrInts("kernel_shape", 2, 2), ob.AttrInts("strides", 2, 2))
	}
	h = g.Node("Flatten", []string{h})
	w := g.Init(ob.FloatTensor("fc_w", []int64{Classes, int64(m.fc.in)}, f32(m.fc.w)))
	b := g.Init(ob.FloatTensor("fc_b", []int64{Classes}, f32(m.fc.b)))
	h = g.NodeTo("logits", "Gemm", []string{h, w, b}, ob.AttrInt("transB", 1))
	g.Output(h, ob.Float, 1, Classes)
	return g.Model()
}

// Transformer block dimensions: sequence, model width, heads, FFN width.
const (
	SeqLen  = 16
	Width   = 64
	Heads   = 4
	FFWidth = 128
)

// transformerGraph is a pre-norm transformer encoder block with random
// (seeded) weights: LayerNorm → multi-head self-attention → residual →
// LayerNorm → FFN with GELU → residual. x and y are [1, 16, 64].
func transformerGraph(seed uint64) *onnxpb.ModelProto {
	r := rand.New(rand.NewPCG(seed, 13))
	g := ob.New("transformer", 20)
	x := g.Input("x", ob.Float, 1, SeqLen, Width)
	vec := func(name string, n int, mean, std float64) string {
		v := make([]float32, n)
		for i := range v {
			v[i] = float32(mean + r.NormFloat64()*std)
		}
		return g.Init(ob.FloatTensor(name, []int64{int64(n)}, v))
	}
	linear := func(name, in string, k, n int) string {
		w := make([]float32, k*n)
		std := 1 / math.Sqrt(float64(k))
		for i := range w {
			w[i] = float32(r.NormFloat64() * std)
		}
		wt := g.Init(ob.FloatTensor(name+"_w", []int64{int64(k), int64(n)}, w))
		return g.Node("Add", []string{g.Node("MatMul", []string{in, wt}), vec(name+"_b", n, 0, 0.02)})
	}
	shape := func(dims ...int64) string { return g.Init(ob.Int64Tensor("shape", []int64{int64(len(dims))}, dims)) }
	dh := Width / Heads
	heads := func(v string, perm ...int64) string {
		return g.Node("Transpose", []string{g.Node("Reshape", []string{v, shape(1, SeqLen, Heads, int64(dh))})}, ob.AttrInts("perm", perm...))
	}
	ln1 := g.Node("LayerNormalization", []string{x, vec("ln1_g", Width, 1, 0.1), vec("ln1_b", Width, 0, 0.1)}, ob.AttrInt("axis", -1), ob.AttrFloat("epsilon", 1e-5))
	q := heads(linear("q", ln1, Width, Width), 0, 2, 1, 3)
	k := heads(linear("k", ln1, Width, Width), 0, 2, 3, 1)
	v := heads(linear("v", ln1, Width, Width), 0, 2, 1, 3)
	s := g.Node("MatMul", []string{q, k})
	s = g.Node("Mul", []string{s, g.Init(ob.FloatTensor("inv_sqrt_dh", nil, []float32{float32(1 / math.Sqrt(float64(dh)))}))})
	p := g.Node("Softmax", []string{s}, ob.AttrInt("axis", -1))
	o := g.Node("MatMul", []string{p, v})
	o = g.Node("Transpose", []string{o}, ob.AttrInts("perm", 0, 2, 1, 3))
	o = g.Node("Reshape", []string{o, shape(1, SeqLen, Width)})
	r1 := g.Node("Add", []string{x, linear("o", o, Width, Width)})
	ln2 := g.Node("LayerNormalization", []string{r1, vec("ln2_g", Width, 1, 0.1), vec("ln2_b", Width, 0, 0.1)}, ob.AttrInt("axis", -1), ob.AttrFloat("epsilon", 1e-5))
	f := g.Node("Gelu", []string{linear("ff1", ln2, Width, FFWidth)})
	y := g.NodeTo("y", "Add", []string{r1, linear("ff2", f, FFWidth, Width)})
	g.Output(y, ob.Float, 1, SeqLen, Width)
	return g.Model()
}

// transformerInputs draws n inputs like token embeddings: N(0, 1).
func transformerInputs(n int, seed uint64) [][]float64 {
	r := rand.New(rand.NewPCG(seed, 17))
	out := make([][]float64, n)
	for i := range out {
		out[i] = make([]float64, SeqLen*Width)
		for k := range out[i] {
			out[i][k] = r.NormFloat64()
		}
	}
	return out
}
