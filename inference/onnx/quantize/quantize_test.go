package quantize

import (
	"encoding/hex"

	"bytes"
	"errors"
	"github.com/infergeth/infergeth/inference"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/infergeth/infergeth/inference/onnx"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/inference/reference"
)

func randFloats(r *rand.Rand, n int, std float64) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64() * std)
	}
	return out
}

func samplesOf(r *rand.Rand, n, size int) []onnx.Sample {
	out := make([]onnx.Sample, n)
	for i := range out {
		v := make([]float64, size)
		for k := range v {
			v[k] = r.NormFloat64()
		}
		out[i] = onnx.Sample{Inputs: [][]float64{v}, Label: -1}
	}
	return out
}

func engineOps(res *Result) string {
	var ops []string
	for _, n := range res.Import.Model.Nodes {
		ops = append(ops, n.Op.String())
	}
	return strings.Join(ops, " ")
}

// quantizeAndCheck quantizes g on random N(0, 1) inputs and checks the
// converted model against the float model on half of them (inputs inside
// the calibrated ranges: what is measured is rounding, not clipping): the
// largest error, relative to the output's range, stays below tol.
func quantizeAndCheck(t *testing.T, g *ob.Graph, size int, tol float64) *Result {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 2))
	calib := samplesOf(r, 64, size)
	res, err := Quantize(g.Model(), calib, Options{})
	if err != nil {
		t.Fatalf("quantize: %v", err)
	}
	acc, err := Evaluate(res, calib[:32], reference.Backend{})
	if err != nil {
		t.Fatalf("evaluate: %v", err)
	}
	for i, o := range acc.Outputs {
		rg := res.Import.Report.Outputs[i].Scale * 255
		if o.MaxAbs > tol*rg {
			t.Errorf("output %s: max |error| %.4g is more than %.3g of its range %.4g (mean %.4g)", o.Name, o.MaxAbs, tol, rg, o.MeanAbs)
		}
	}
	return res
}

// TestWrittenOutLayerNorm: the normalization exporters write out
// (ReduceMean, Sub, Pow, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β) over
// the last axis becomes the engine's integer LayerNorm.
func TestWrittenOutLayerNorm(t *testing.T) {
	for _, tc := range []struct {
		name   string
		opset  int64
		square string
		affine bool
	}{{"pow, opset 13", 13, "Pow", true}, {"mul, opset 18 (axes input)", 18, "Mul", true}, {"no affine", 17, "Pow", false}} {
		t.Run(tc.name, func(t *testing.T) {
			r := rand.New(rand.NewPCG(3, 4))
			g := ob.New("ln", tc.opset)
			x := g.Input("x", ob.Float, 1, 4, 16)
			mean := func(v string) string {
				if tc.opset >= 18 {
					return g.Node("ReduceMean", []string{v, g.Init(ob.Int64Tensor("axes", []int64{1}, []int64{-1}))})
				}
				return g.Node("ReduceMean", []string{v}, ob.AttrInts("axes", -1))
			}
			d := g.Node("Sub", []string{x, mean(x)})
			var sq string
			if tc.square == "Pow" {
				sq = g.Node("Pow", []string{d, g.Init(ob.FloatTensor("two", nil, []float32{2}))})
			} else {
				sq = g.Node("Mul", []string{d, d})
			}
			v := g.Node("Add", []string{mean(sq), g.Init(ob.FloatTensor("eps", nil, []float32{1e-5}))})
			y := g.Node("Div", []string{d, g.Node("Sqrt", []string{v})})
			if tc.affine {
				y = g.Node("Mul", []string{y, g.Init(ob.FloatTensor("gamma", []int64{16}, randFloats(r, 16, 0.3)))})
				y = g.Node("Add", []string{y, g.Init(ob.FloatTensor("beta", []int64{16}, randFloats(r, 16, 0.3)))})
			}
			g.Output(y, ob.Float, 1, 4, 16)
			res := quantizeAndCheck(t, g, 64, 0.03)
			if ops := engineOps(res); ops != "LayerNorm" {
				t.Errorf("engine ops %q, want LayerNorm alone", ops)
			}
			if !strings.Contains(strings.Join(res.Notes, "\n"), "became LayerNormalization") {
				t.Errorf("notes %q do not say so", res.Notes)
			}
		})
	}
}

// TestShapeChainsFold: the Shape → Gather → Unsqueeze → Concat → Cast
// chain an exporter writes for a Flatten-like Reshape is folded into a
// constant, and the weights of a Conv reached through a Transpose of a
// constant are found.
func TestShapeChainsFold(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	g := ob.New("shapes", 13)
	x := g.Input("x", ob.Float, 1, 2, 6, 6)
	wt := g.Init(ob.FloatTensor("w_t", []int64{3, 3, 2, 4}, randFloats(r, 72, 0.3)))
	w := g.Node("Transpose", []string{wt}, ob.AttrInts("perm", 3, 2, 0, 1))
	c := g.Node("Conv", []string{x, w, g.Init(ob.FloatTensor("b", []int64{4}, randFloats(r, 4, 0.1)))}, ob.AttrInts("pads", 1, 1, 1, 1))
	c = g.Node("Relu", []string{c})
	shape := g.Node("Shape", []string{c})
	batch := g.Node("Gather", []string{shape, g.Init(ob.Int64Tensor("zero", nil, []int64{0}))}, ob.AttrInt("axis", 0))
	target := g.Node("Concat", []string{g.Node("Unsqueeze", []string{batch, g.Init(ob.Int64Tensor("ax", []int64{1}, []int64{0}))}),
		g.Init(ob.Int64Tensor("minus1", []int64{1}, []int64{-1}))}, ob.AttrInt("axis", 0))
	target = g.Node("Cast", []string{target}, ob.AttrInt("to", int64(onnxpb.TensorProto_INT64)))
	flat := g.Node("Reshape", []string{c, target})
	fw := g.Init(ob.FloatTensor("fw", []int64{5, 144}, randFloats(r, 720, 0.1)))
	y := g.Node("Gemm", []string{flat, fw, g.Init(ob.FloatTensor("fb", []int64{5}, randFloats(r, 5, 0.1)))}, ob.AttrInt("transB", 1))
	g.Output(g.Node("Softmax", []string{y}, ob.AttrInt("axis", -1)), ob.Float, 1, 5)
	res := quantizeAndCheck(t, g, 72, 0.05)
	if !strings.Contains(strings.Join(res.Notes, "\n"), "folded") {
		t.Errorf("notes %q", res.Notes)
	}
	for _, n := range res.QDQ.Graph.Node {
		switch n.OpType {
		case "Shape", "Gather", "Cast", "Unsqueeze", "Concat", "Transpose":
			t.Errorf("%s left in the QDQ model", n.OpType)
		}
	}
	if ops := engineOps(res); !strings.Contains(ops, "Conv2D") || !strings.Contains(ops, "FullyConnected") || !strings.Contains(ops, "Softmax") {
		t.Errorf("engine ops %q", ops)
	}
}

// TestActivationsAndShapes: table lookups, Softmax, Concat, views and
// pools, and a Sub of two activations, each within a few steps of float.
func TestActivationsAndShapes(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	g := ob.New("acts", 20)
	x := g.Input("x", ob.Float, 1, 3, 4, 4)
	w := g.Init(ob.FloatTensor("w", []int64{3, 1, 3, 3}, randFloats(r, 27, 0.4)))
	dw := g.Node("Conv", []string{x, w}, ob.AttrInt("group", 3), ob.AttrInts("pads", 1, 1, 1, 1))
	a := g.Node("Sigmoid", []string{dw})
	b := g.Node("Tanh", []string{x})
	c := g.Node("Gelu", []string{x})
	d := g.Node("LeakyRelu", []string{x}, ob.AttrFloat("alpha", 0.1))
	e := g.Node("Clip", []string{x, g.Init(ob.FloatTensor("lo", nil, []float32{-0.5})), g.Init(ob.FloatTensor("hi", nil, []float32{1}))})
	s := g.Node("Sub", []string{b, d})
	cat := g.Node("Concat", []string{a, s, c, e}, ob.AttrInt("axis", 1))
	p := g.Node("AveragePool", []string{cat}, ob.AttrInts("kernel_shape", 2, 2), ob.AttrInts("strides", 2, 2))
	gp := g.Node("GlobalAveragePool", []string{p})
	sq := g.Node("Squeeze", []string{gp, g.Init(ob.Int64Tensor("axes", []int64{2}, []int64{2, 3}))})
	u := g.Node("Unsqueeze", []string{sq, g.Init(ob.Int64Tensor("axes1", []int64{1}, []int64{1}))})
	tr := g.Node("Transpose", []string{u}, ob.AttrInts("perm", 0, 2, 1))
	g.Output(g.Node("Softmax", []string{tr}, ob.AttrInt("axis", -1)), ob.Float, 1, 12, 1)
	// Softmax of one element is 1: also test a real one on the pool.
	g.Output(g.Node("Softmax", []string{g.Node("Flatten", []string{p})}, ob.AttrInt("axis", -1)), ob.Float, 1, 48)
	res := quantizeAndCheck(t, g, 48, 0.06)
	ops := engineOps(res)
	for _, want := range []string{"DepthwiseConv2D", "Lookup", "Add", "Concat", "Softmax"} {
		if !strings.Contains(ops, want) {
			t.Errorf("engine ops %q lack %s", ops, want)
		}
	}
}

// TestRefusesAllAtOnce: every node that cannot be quantized is named in
// one error, with its op and the reason.
func TestRefusesAllAtOnce(t *testing.T) {
	g := ob.New("bad", 13)
	x := g.Input("x", ob.Float, 1, 4, 8)
	y := g.NodeTo("lstm_out", "LSTM", []string{x})
	z := g.NodeTo("resized", "Resize", []string{x})
	q := g.NodeTo("custom", "NonExistentOp", []string{x})
	g.Output(g.Node("Add", []string{g.Node("Add", []string{y, z}), q}), ob.Float, 1, 4, 8)
	_, err := Quantize(g.Model(), samplesOf(rand.New(rand.NewPCG(1, 1)), 2, 32), Options{})
	var ue *UnsupportedError
	if !errors.As(err, &ue) || !errors.Is(err, onnx.ErrUnsupported) {
		t.Fatalf("error %v, want an UnsupportedError", err)
	}
	if len(ue.Refusals) != 3 {
		t.Errorf("%d refusals, want 3: %v", len(ue.Refusals), err)
	}
	for _, want := range []string{"LSTM", "recurrent", "Resize", "resizing", "NonExistentOp", "not in op set v1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	// Operand-level refusals are collected too.
	r := rand.New(rand.NewPCG(2, 2))
	g = ob.New("bad2", 13)
	x = g.Input("x", ob.Float, 1, 4, 5, 5)
	w := g.Init(ob.FloatTensor("w", []int64{4, 2, 3, 3}, randFloats(r, 72, 0.3)))
	a := g.Node("Conv", []string{x, w}, ob.AttrInt("group", 2))
	b := g.Node("Div", []string{a, a})
	g.Output(g.Node("Max", []string{b, a}), ob.Float)
	_, err = Quantize(g.Model(), samplesOf(r, 2, 100), Options{})
	if !errors.As(err, &ue) || len(ue.Refusals) != 3 || !strings.Contains(err.Error(), "grouped convolution") || !strings.Contains(err.Error(), "Div of two activations") {
		t.Errorf("error %v", err)
	}
	// A quantized model is sent to model import.
	g = ob.New("q", 13)
	x = g.Input("x", ob.Float, 1, 4)
	g.Output(g.QDQ(x, ob.Quant{Scale: 0.1, Type: ob.Int8}), ob.Float, 1, 4)
	if _, err := Quantize(g.Model(), samplesOf(r, 1, 4), Options{}); err == nil || !strings.Contains(err.Error(), "model import") {
		t.Errorf("quantized model: %v", err)
	}
	if _, err := Quantize(g.Model(), nil, Options{}); !errors.Is(err, ErrNoSamples) {
		t.Errorf("no samples: %v", err)
	}
}

func mlp(r *rand.Rand) *ob.Graph {
	g := ob.New("mlp", 13)
	h := g.Input("x", ob.Float, 1, 32)
	for i, n := range []int{24, 10} {
		k := []int{32, 24}[i]
		w := g.Init(ob.FloatTensor("w", []int64{int64(n), int64(k)}, randFloats(r, n*k, 1/math.Sqrt(float64(k)))))
		b := g.Init(ob.FloatTensor("b", []int64{int64(n)}, randFloats(r, n, 0.1)))
		h = g.Node("Gemm", []string{h, w, b}, ob.AttrInt("transB", 1), ob.AttrFloat("alpha", 0.9), ob.AttrFloat("beta", 1.1))
		if i == 0 {
			h = g.Node("Relu", []string{h})
		}
	}
	g.Output(h, ob.Float, 1, 10)
	return g
}

// TestDeterministicAndMethods: the same inputs give the same bytes (QDQ
// and canonical), MinMax and Percentile give different ranges, and
// percentile ranges lie inside the values seen.
func TestDeterministicAndMethods(t *testing.T) {
	m := mlp(rand.New(rand.NewPCG(9, 9))).Model()
	samples := samplesOf(rand.New(rand.NewPCG(10, 10)), 200, 32)
	var first [2]*Result
	for i, method := range []Method{MinMax, Percentile} {
		for round := 0; round < 3; round++ {
			res, err := Quantize(m, samples, Options{Method: method, Percentile: 99})
			if err != nil {
				t.Fatal(err)
			}
			if round == 0 {
				first[i] = res
				continue
			}
			if !bytes.Equal(res.QDQBytes, first[i].QDQBytes) || !bytes.Equal(res.Import.Bytes, first[i].Import.Bytes) {
				t.Fatalf("%s: round %d gave other bytes", method, round)
			}
		}
	}
	if bytes.Equal(first[0].Import.Bytes, first[1].Import.Bytes) {
		t.Error("percentile and minmax gave the same model")
	}
	narrower := 0
	for k, r := range first[1].Ranges {
		mm := first[0].Ranges[k]
		if r.Lo < mm.Lo || r.Hi > mm.Hi {
			t.Errorf("%s: percentile range [%g, %g] outside minmax [%g, %g]", r.Name, r.Lo, r.Hi, mm.Lo, mm.Hi)
		}
		if r.Hi-r.Lo < mm.Hi-mm.Lo {
			narrower++
		}
	}
	if narrower == 0 {
		t.Error("no percentile range is narrower than min/max")
	}
	if _, err := Quantize(m, samples, Options{Method: "entropy"}); err == nil {
		t.Error("unknown method accepted")
	}
}

// TestMatMulBiasReluFused: MatMul + bias Add + Relu becomes one
// FullyConnected whose output bounds hold the Relu.
func TestMatMulBiasReluFused(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 11))
	g := ob.New("mm", 13)
	x := g.Input("x", ob.Float, 1, 3, 8)
	w := g.Init(ob.FloatTensor("w", []int64{8, 6}, randFloats(r, 48, 0.4)))
	y := g.Node("Add", []string{g.Node("MatMul", []string{x, w}), g.Init(ob.FloatTensor("b", []int64{6}, randFloats(r, 6, 0.1)))})
	g.Output(g.Node("Relu", []string{y}), ob.Float, 1, 3, 6)
	res := quantizeAndCheck(t, g, 24, 0.02)
	if ops := engineOps(res); ops != "FullyConnected" {
		t.Errorf("engine ops %q", ops)
	}
}

// TestUnreadExtraOutputs: a node declaring optional outputs nothing reads
// (LayerNormalization's Mean and InvStdDev, as ONNX's node tests write it)
// quantizes; found by tests/onnxnode, where it panicked.
func TestUnreadExtraOutputs(t *testing.T) {
	r := rand.New(rand.NewPCG(12, 12))
	g := ob.New("ln3", 17)
	x := g.Input("x", ob.Float, 2, 8)
	outs := g.NodeIn("", "LayerNormalization", []string{x, g.Init(ob.FloatTensor("g", []int64{8}, randFloats(r, 8, 1))),
		g.Init(ob.FloatTensor("b", []int64{8}, randFloats(r, 8, 1)))}, 3)
	g.Output(outs[0], ob.Float, 2, 8)
	quantizeAndCheck(t, g, 16, 0.05)
}

// TestTrainingDropoutRefused: Dropout with training_mode true drops values
// at random; it is refused, not taken as the identity.
func TestTrainingDropoutRefused(t *testing.T) {
	g := ob.New("drop", 13)
	x := g.Input("x", ob.Float, 1, 8)
	train := g.Init(&onnxpb.TensorProto{Name: "t", DataType: int32(onnxpb.TensorProto_BOOL), RawData: []byte{1}})
	g.Output(g.Node("Dropout", []string{x, g.Init(ob.FloatTensor("ratio", nil, []float32{0.5})), train}), ob.Float, 1, 8)
	_, err := Quantize(g.Model(), samplesOf(rand.New(rand.NewPCG(1, 1)), 4, 8), Options{})
	if err == nil || !strings.Contains(err.Error(), "training mode") {
		t.Errorf("error %v", err)
	}
}

// TestNamesThatCollide: values named like the QDQ writer's own names
// (scale, zero, x_dq, y_f) do not clash with them.
func TestNamesThatCollide(t *testing.T) {
	r := rand.New(rand.NewPCG(13, 13))
	g := ob.New("names", 13)
	x := g.Input("x", ob.Float, 1, 6)
	a := g.NodeTo("x_dq", "Relu", []string{x})
	b := g.NodeTo("scale", "MatMul", []string{a, g.Init(ob.FloatTensor("zero", []int64{6, 6}, randFloats(r, 36, 0.4)))})
	c := g.NodeTo("scale_f", "Sigmoid", []string{b})
	d := g.NodeTo("y", "Add", []string{c, b})
	g.Output(g.NodeTo("y_f", "Tanh", []string{d}), ob.Float, 1, 6)
	quantizeAndCheck(t, g, 6, 0.05)
}

// TestBatchedConstantB: a float MatMul with one constant matrix per batch
// quantizes B per tensor and runs as the engine's MatMul.
func TestBatchedConstantB(t *testing.T) {
	r := rand.New(rand.NewPCG(14, 14))
	g := ob.New("bmm", 13)
	x := g.Input("x", ob.Float, 2, 3, 4)
	w := g.Init(ob.FloatTensor("w", []int64{2, 4, 5}, randFloats(r, 40, 0.5)))
	g.Output(g.Node("MatMul", []string{x, w}), ob.Float, 2, 3, 5)
	res := quantizeAndCheck(t, g, 24, 0.03)
	if ops := engineOps(res); ops != "MatMul" {
		t.Errorf("engine ops %q", ops)
	}
}

// TestModelIDsArePinned: the bytes of a quantization are pinned, so a
// platform whose float64 arithmetic differed (a fused multiply-add, a
// library exp) fails here instead of writing another model.
func TestModelIDsArePinned(t *testing.T) {
	m := mlp(rand.New(rand.NewPCG(9, 9))).Model()
	samples := samplesOf(rand.New(rand.NewPCG(10, 10)), 100, 32)
	for _, tc := range []struct {
		method Method
		want   string
	}{{MinMax, "2a2b9057e374ed38"}, {Percentile, "25b8c345654cd5c6"}} {
		res, err := Quantize(m, samples, Options{Method: tc.method, Percentile: 99})
		if err != nil {
			t.Fatal(err)
		}
		id := inference.ID(res.Import.Bytes)
		if got := hex.EncodeToString(id[:8]); got != tc.want {
			t.Errorf("%s: model id %s…, pinned %s…", tc.method, got, tc.want)
		}
	}
}

// TestGeluAsExported: GELU as PyTorch exports it below opset 20,
// x · 0.5 · (1 + erf(x / √2)), quantizes op by op (tables and a Mul of
// two activations) and stays close to float.
func TestGeluAsExported(t *testing.T) {
	g := ob.New("gelu", 17)
	x := g.Input("x", ob.Float, 1, 16)
	e := g.Node("Erf", []string{g.Node("Div", []string{x, g.Init(ob.FloatTensor("sqrt2", nil, []float32{1.4142135}))})})
	h := g.Node("Mul", []string{x, g.Node("Add", []string{e, g.Init(ob.FloatTensor("one", nil, []float32{1}))})})
	g.Output(g.Node("Mul", []string{h, g.Init(ob.FloatTensor("half", nil, []float32{0.5}))}), ob.Float, 1, 16)
	res := quantizeAndCheck(t, g, 16, 0.03)
	if ops := engineOps(res); !strings.Contains(ops, "Lookup") || !strings.Contains(ops, "Mul") {
		t.Errorf("engine ops %q", ops)
	}
}
