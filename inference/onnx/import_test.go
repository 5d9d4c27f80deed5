package onnx

import (
	"slices"
	"testing"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
)

var (
	// Scales are not simple ratios of each other, so exact rounding ties
	// (where ONNX rounds half to even and the engine half up) are rare.
	qIn  = ob.Quant{Scale: 0.0517, Zero: 3, Type: ob.Int8}
	qU8  = ob.Quant{Scale: 0.0389, Zero: 120, Type: ob.Uint8}
	qMid = ob.Quant{Scale: 0.1033, Zero: -5, Type: ob.Int8}
	qOut = ob.Quant{Scale: 0.2071, Zero: 1, Type: ob.Int8}
)

// qdqLinear adds DQ(weights) → MatMul → Add(DQ bias) → Q.
func qdqMLP(opset int64) *ob.Graph {
	r := rng(1)
	g := ob.New("mlp", opset)
	x := g.Input("x", ob.Float, 1, 16)
	h := g.QDQ(x, qIn)
	w1 := g.DequantizedWeights("w1", []int64{16, 8}, randInt8(r, 128, -127, 127), scales(r, 8, 0.01), 1)
	b1 := g.DequantizedBias("b1", randInt32(r, 8, 300), []float32{0.05 * 0.01})
	mm := g.Node("MatMul", []string{h, w1})
	add := g.Node("Add", []string{mm, b1})
	relu := g.Node("Relu", []string{add})
	h2 := g.QDQ(relu, qMid)
	w2 := g.DequantizedWeights("w2", []int64{8, 4}, randInt8(r, 32, -127, 127), scales(r, 4, 0.02), 1)
	y := g.Node("MatMul", []string{h2, w2})
	out := g.QDQ(y, qOut)
	g.Output(out, ob.Float, 1, 4)
	return g
}

func TestMLPQDQ(t *testing.T) {
	for _, opset := range []int64{13, 17, 21} {
		res, gap := checkModel(t, qdqMLP(opset), 64, 1, 0.05)
		if got := engineOps(res); !slices.Equal(got, []string{"FullyConnected", "FullyConnected"}) {
			t.Errorf("opset %d: ops %v", opset, got)
		}
		t.Logf("opset %d: %d/%d differ", opset, gap.Differing, gap.Elements)
	}
}
