package onnx

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
)

// Gaps real int8 models exposed (issue 15). Each test was seen failing
// on the importer before its fix.

// TestIntegerAccumulatorOutput: MatMulInteger and ConvInteger whose int32
// accumulator is the graph output convert to an int32 output, exactly.
// Before, the refusal called it "the unquantized float result".
func TestIntegerAccumulatorOutput(t *testing.T) {
	r := rng(21)
	t.Run("MatMulInteger", func(t *testing.T) {
		g := ob.New("mmi", 13)
		x := g.Input("x", ob.Int8, 1, 6)
		w := g.Init(ob.Int8Tensor("w", []int64{6, 4}, randInt8(r, 24, -127, 127)))
		xz := g.Init(ob.Int8Tensor("xz", nil, []int8{3}))
		wz := g.Init(ob.Int8Tensor("wz", nil, []int8{0}))
		g.Output(g.Node("MatMulInteger", []string{x, w, xz, wz}), ob.Int32, 1, 4)
		res, gap := checkModel(t, g, 16, 0, 0)
		if res.Report.Outputs[0].Type != "int32" || gap.Elements != 16*4 {
			t.Errorf("output %+v, %d elements compared", res.Report.Outputs[0], gap.Elements)
		}
	})
	t.Run("ConvInteger", func(t *testing.T) {
		g := ob.New("convi", 13)
		x := g.Input("x", ob.Uint8, 1, 2, 5, 5)
		w := g.Init(ob.Int8Tensor("w", []int64{3, 2, 3, 3}, randInt8(r, 54, -127, 127)))
		xz := g.Init(ob.Uint8Tensor("xz", nil, []uint8{128}))
		g.Output(g.Node("ConvInteger", []string{x, w, xz}, ob.AttrInts("pads", 1, 1, 1, 1)), ob.Int32, 1, 3, 5, 5)
		checkModel(t, g, 8, 0, 0)
	})
}

// TestEveryRefusalAtOnce: nodes refused during conversion (not only ops
// the importer does not know) are all named in one error.
func TestEveryRefusalAtOnce(t *testing.T) {
	g := ob.New("many", 13)
	a := g.QDQ(g.Input("a", ob.Float, 1, 4), qIn)
	b := g.QDQ(g.Input("b", ob.Float, 1, 4), qMid)
	m1 := g.QDQ(g.Node("Max", []string{a, b}), qOut)
	x := g.QDQ(g.Input("x", ob.Float, 1, 4, 5, 5), qIn)
	w := convWeights(g, 1, 4, 2, 3, 3)
	c := g.QDQ(g.Node("Conv", []string{x, w}, ob.AttrInt("group", 2)), qOut)
	m2 := g.QDQ(g.Node("Min", []string{a, b}), qOut)
	g.Output(m1, ob.Float, 1, 4)
	g.Output(c, ob.Float)
	g.Output(m2, ob.Float, 1, 4)
	_, err := Import(mustMarshal(t, g), Options{})
	if !errors.Is(err, ErrUnsupported) {
		t.Fatalf("error %v", err)
	}
	for _, want := range []string{"3 node(s)", "Max of two activations", "grouped convolution", "Min of two activations"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}

// TestOldOpsets: QOperator models at opsets 10 to 12 (what older
// exporters and quantizers wrote) import, with those opsets' Clip
// attributes and Softmax over the axes from `axis` on.
func TestOldOpsets(t *testing.T) {
	for _, opset := range []int64{10, 11, 12} {
		t.Run(fmt.Sprint("opset ", opset), func(t *testing.T) {
			r := rng(uint64(opset))
			g := ob.New("old", opset)
			x := g.Input("x", ob.Float, 1, 2, 5, 5)
			xs, xz := g.Params(qU8)
			xq := g.Node("QuantizeLinear", []string{x, xs, xz})
			w := g.Init(ob.Int8Tensor("w", []int64{3, 2, 3, 3}, randInt8(r, 54, -127, 127)))
			ws := g.Init(ob.FloatTensor("ws", nil, []float32{0.02}))
			wz := g.Init(ob.Int8Tensor("wz", nil, []int8{0}))
			ys, yz := g.Params(qMid)
			c := g.Node("QLinearConv", []string{xq, xs, xz, w, ws, wz, ys, yz}, ob.AttrInts("pads", 1, 1, 1, 1))
			f := g.Node("Flatten", []string{c})
			b := g.Init(ob.Int8Tensor("b", []int64{75, 10}, randInt8(r, 750, -127, 127)))
			bs := g.Init(ob.FloatTensor("bs", nil, []float32{0.01}))
			os, oz := g.Params(qOut)
			mm := g.Node("QLinearMatMul", []string{f, ys, yz, b, bs, wz, os, oz})
			d := g.Dequantize(mm, qOut)
			if opset == 10 {
				d = g.Node("Clip", []string{d}, ob.AttrFloat("min", -2), ob.AttrFloat("max", 2))
				d = g.QDQ(d, qOut)
			}
			sm := g.Node("Softmax", []string{d}) // axis 1: the flattened [1, 10]
			g.Output(g.QDQ(sm, ob.Quant{Scale: 1.0 / 256, Zero: -128, Type: ob.Int8}), ob.Float, 1, 10)
			checkModel(t, g, 16, 1, 0.05)
		})
	}
	// Softmax before opset 13 over more than the last axis is refused.
	g := ob.New("sm", 12)
	x := g.QDQ(g.Input("x", ob.Float, 1, 3, 4), qIn)
	g.Output(g.QDQ(g.Node("Softmax", []string{x}), ob.Quant{Scale: 1.0 / 256, Zero: -128, Type: ob.Int8}), ob.Float, 1, 3, 4)
	if _, err := Import(mustMarshal(t, g), Options{}); err == nil || !strings.Contains(err.Error(), "flattened") {
		t.Errorf("opset 12 Softmax over axes 1 and 2: %v", err)
	}
	// And opset 9 stays refused.
	g = ob.New("nine", 9)
	g.Output(g.QDQ(g.Input("x", ob.Float, 1, 4), qIn), ob.Float, 1, 4)
	if _, err := Import(mustMarshal(t, g), Options{}); err == nil || !strings.Contains(err.Error(), "opset 9") {
		t.Errorf("opset 9: %v", err)
	}
}

// TestBatchedConstantB: MatMul and QLinearMatMul with a rank-3 constant B
// (one matrix per batch) convert to the engine's MatMul with B as a
// constant operand, exactly as ONNX computes it; a B of batch 1 is
// FullyConnected. Before, a constant B had to be rank 2.
func TestBatchedConstantB(t *testing.T) {
	r := rng(33)
	t.Run("QDQ MatMul", func(t *testing.T) {
		g := ob.New("bmm", 13)
		x := g.QDQ(g.Input("x", ob.Float, 2, 3, 4), qIn)
		w := g.Dequantize(g.Init(ob.Int8Tensor("w", []int64{2, 4, 5}, randInt8(r, 40, -127, 127))), ob.Quant{Scale: 0.03, Zero: 2, Type: ob.Int8})
		g.Output(g.QDQ(g.Node("MatMul", []string{x, w}), qOut), ob.Float, 2, 3, 5)
		res, _ := checkModel(t, g, 16, 1, 0.05)
		if ops := engineOps(res); !slices.Contains(ops, "MatMul") {
			t.Errorf("engine ops %v", ops)
		}
	})
	t.Run("QLinearMatMul uint8", func(t *testing.T) {
		g := ob.New("qbmm", 13)
		x := g.Input("x", ob.Uint8, 3, 2, 6)
		xs, xz := g.Params(qU8)
		b := make([]uint8, 3*6*4)
		for i := range b {
			b[i] = uint8(r.IntN(256))
		}
		bn := g.Init(ob.Uint8Tensor("b", []int64{3, 6, 4}, b))
		bs, bz := g.Params(ob.Quant{Scale: 0.01, Zero: 131, Type: ob.Uint8})
		ys, yz := g.Params(qMid)
		g.Output(g.Node("QLinearMatMul", []string{x, xs, xz, bn, bs, bz, ys, yz}), ob.Int8, 3, 2, 4)
		checkModel(t, g, 16, 1, 0.05)
	})
	t.Run("batch 1", func(t *testing.T) {
		g := ob.New("b1", 13)
		x := g.QDQ(g.Input("x", ob.Float, 1, 3, 4), qIn)
		w := g.Dequantize(g.Init(ob.Int8Tensor("w", []int64{1, 4, 5}, randInt8(r, 20, -127, 127))), ob.Quant{Scale: 0.03, Type: ob.Int8})
		g.Output(g.QDQ(g.Node("MatMul", []string{x, w}), qOut), ob.Float, 1, 3, 5)
		res, _ := checkModel(t, g, 16, 1, 0.05)
		if ops := engineOps(res); !slices.Contains(ops, "FullyConnected") {
			t.Errorf("engine ops %v", ops)
		}
	})
}

// TestUint8WeightsExact: uint8 weights with a non-zero zero point (and
// int8 ones with a zero point) are kept exactly as q − zero point, even
// where that leaves [−127, 127] (the fully connected layer then reads its
// input twice, each copy with a part of every weight), so the converted
// model computes what ONNX does. Before, they were requantized to
// symmetric int8 and about one output value in ten moved by a step.
func TestUint8WeightsExact(t *testing.T) {
	r := rng(44)
	u8 := func(n int) []uint8 {
		out := make([]uint8, n)
		for i := range out {
			out[i] = uint8(r.IntN(256))
		}
		return out
	}
	t.Run("QLinearMatMul, zero point 114", func(t *testing.T) {
		g := ob.New("u8w", 13)
		x := g.Input("x", ob.Uint8, 4, 16)
		xs, xz := g.Params(qU8)
		b := g.Init(ob.Uint8Tensor("b", []int64{16, 8}, u8(128)))
		bs, bz := g.Params(ob.Quant{Scale: 0.0123, Zero: 114, Type: ob.Uint8})
		ys, yz := g.Params(ob.Quant{Scale: 0.37, Zero: 121, Type: ob.Uint8})
		g.Output(g.Node("QLinearMatMul", []string{x, xs, xz, b, bs, bz, ys, yz}), ob.Uint8, 4, 8)
		res, _ := checkModel(t, g, 64, 1, 0.002)
		if strings.Contains(strings.Join(res.Report.Notes, "\n"), "requantized") {
			t.Errorf("weights requantized: %q", res.Report.Notes)
		}
	})
	t.Run("QDQ Gemm, per-channel zero points", func(t *testing.T) {
		g := ob.New("zpw", 13)
		x := g.QDQ(g.Input("x", ob.Float, 1, 12), qIn)
		w := g.Init(ob.Uint8Tensor("w", []int64{5, 12}, u8(60)))
		s := g.Init(ob.FloatTensor("ws", []int64{5}, []float32{0.01, 0.02, 0.015, 0.03, 0.011}))
		z := g.Init(ob.Uint8Tensor("wz", []int64{5}, []uint8{0, 128, 200, 255, 37}))
		wd := g.Node("DequantizeLinear", []string{w, s, z}, ob.AttrInt("axis", 0))
		g.Output(g.QDQ(g.Node("Gemm", []string{x, wd}, ob.AttrInt("transB", 1)), qOut), ob.Float, 1, 5)
		checkModel(t, g, 64, 1, 0.01)
	})
}
