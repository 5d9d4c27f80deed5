package onnx

import (
	"errors"
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
