package onnx

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

func TestRefusals(t *testing.T) {
	r := rng(3)
	qdqInput := func(g *ob.Graph, dims ...int64) string { return g.QDQ(g.Input("x", ob.Float, dims...), qIn) }
	cases := []struct {
		name  string
		build func() []byte
		is    error
		want  []string
	}{
		{"empty file", func() []byte { return nil }, ErrMalformed, []string{"empty"}},
		{"not protobuf", func() []byte { return []byte("this is not an ONNX model at all\xff\xff\xff") }, ErrMalformed, []string{"malformed"}},
		{"no graph", func() []byte { b, _ := proto.Marshal(&onnxpb.ModelProto{IrVersion: 8}); return b }, ErrMalformed, []string{"no graph"}},
		{"float only", func() []byte {
			g := ob.New("f", 13)
			x := g.Input("x", ob.Float, 1, 4)
			w := g.Init(ob.FloatTensor("w", []int64{4, 2}, make([]float32, 8)))
			g.Output(g.Node("MatMul", []string{x, w}), ob.Float, 1, 2)
			return mustMarshal(t, g)
		}, ErrFloatOnly, []string{"float-only", "quantize it first"}},
		{"opset 9", func() []byte {
			g := ob.New("old", 9)
			g.Output(qdqInput(g, 1, 4), ob.Float, 1, 4)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"opset 9", "10 to 21"}},
		{"ops outside v1, all named", func() []byte {
			g := ob.New("bad", 13)
			x := qdqInput(g, 1, 4, 4)
			y := g.Node("LSTM", []string{x})
			y = g.Node("Resize", []string{y})
			y = g.Node("NonExistentOp", []string{y})
			g.Output(y, ob.Float)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"3 node(s)", "LSTM", "recurrent", "Resize", "resizing", "NonExistentOp", "not in op set v1"}},
		{"dynamic quantization", func() []byte {
			g := ob.New("dyn", 13)
			x := g.Input("x", ob.Float, 1, 4)
			outs := g.NodeIn("", "DynamicQuantizeLinear", []string{x}, 3)
			g.Output(outs[0], ob.Uint8, 1, 4)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"DynamicQuantizeLinear", "static scales"}},
		{"per-channel activation", func() []byte {
			g := ob.New("pc", 13)
			x := g.Input("x", ob.Float, 1, 2)
			s := g.Init(ob.FloatTensor("s", []int64{2}, []float32{0.1, 0.2}))
			z := g.Init(ob.Int8Tensor("z", []int64{2}, []int8{0, 0}))
			q := g.Node("QuantizeLinear", []string{x, s, z}, ob.AttrInt("axis", 1))
			g.Output(g.Node("DequantizeLinear", []string{q, s, z}, ob.AttrInt("axis", 1)), ob.Float, 1, 2)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"per-channel quantization of an activation"}},
		{"grouped conv", func() []byte {
			g := ob.New("grp", 13)
			x := qdqInput(g, 1, 4, 5, 5)
			w := convWeights(g, 1, 4, 2, 3, 3)
			g.Output(g.QDQ(g.Node("Conv", []string{x, w}, ob.AttrInt("group", 2)), qOut), ob.Float)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"grouped convolution", "group 2"}},
		{"sub of activations", func() []byte {
			g := ob.New("sub", 13)
			a := g.QDQ(g.Input("a", ob.Float, 1, 4), qIn)
			b := g.QDQ(g.Input("b", ob.Float, 1, 4), qMid)
			g.Output(g.QDQ(g.Node("Sub", []string{a, b}), qOut), ob.Float, 1, 4)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"Sub of two activations"}},
		{"max of activations", func() []byte {
			g := ob.New("max", 13)
			a := g.QDQ(g.Input("a", ob.Float, 1, 4), qIn)
			b := g.QDQ(g.Input("b", ob.Float, 1, 4), qMid)
			g.Output(g.QDQ(g.Node("Max", []string{a, b}), qOut), ob.Float, 1, 4)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"Max of two activations"}},
		{"unquantized op output", func() []byte {
			g := ob.New("noq", 13)
			x := qdqInput(g, 1, 4)
			w := g.DequantizedWeights("w", []int64{4, 3}, randInt8(r, 12, -127, 127), []float32{0.1}, 1)
			g.Output(g.Node("MatMul", []string{x, w}), ob.Float, 1, 3)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"unquantized float result", "QuantizeLinear"}},
		{"float input used directly", func() []byte {
			g := ob.New("raw", 13)
			x := g.Input("x", ob.Float, 1, 4)
			w := g.DequantizedWeights("w", []int64{4, 3}, randInt8(r, 12, -127, 127), []float32{0.1}, 1)
			g.Output(g.QDQ(g.Node("MatMul", []string{x, w}), qOut), ob.Float, 1, 3)
			return mustMarshal(t, g)
		}, ErrUnsupported, []string{"float graph input", "quantize it first"}},
		{"external data", func() []byte {
			g := ob.New("ext", 13)
			x := qdqInput(g, 1, 4)
			t := ob.FloatTensor("w", []int64{4, 3}, nil)
			t.RawData = nil
			t.DataLocation = onnxpb.TensorProto_EXTERNAL
			t.ExternalData = []*onnxpb.StringStringEntryProto{{Key: "location", Value: "weights.bin"}}
			g.Init(t)
			g.Output(x, ob.Float, 1, 4)
			return mustMarshal(&testing.T{}, g)
		}, ErrUnsupported, []string{"external file"}},
		{"tensor shorter than its shape", func() []byte {
			g := ob.New("short", 13)
			x := qdqInput(g, 1, 4)
			bad := ob.Int8Tensor("w", []int64{1000, 100}, []int8{1, 2, 3})
			w := g.Dequantize(g.Init(bad), qIn)
			g.Output(g.QDQ(g.Node("MatMul", []string{x, w}), qOut), ob.Float)
			return mustMarshal(t, g)
		}, ErrMalformed, []string{"raw_data holds 3 bytes"}},
		{"cycle", func() []byte {
			g := ob.New("cyc", 13)
			x := qdqInput(g, 1, 4)
			m := g.Model()
			m.Graph.Node = append(m.Graph.Node, &onnxpb.NodeProto{OpType: "Relu", Input: []string{"loop"}, Output: []string{"loop2"}},
				&onnxpb.NodeProto{OpType: "Relu", Input: []string{"loop2"}, Output: []string{"loop"}})
			_ = x
			b, _ := proto.Marshal(m)
			return b
		}, ErrMalformed, []string{"cycle"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			res, err := Import(tc.build(), Options{})
			if err == nil {
				t.Fatalf("imported (%d bytes); want a refusal", len(res.Bytes))
			}
			if !errors.Is(err, tc.is) {
				t.Errorf("error %q is not %v", err, tc.is)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
		})
	}
}

func TestWeightAdjustmentsAreReported(t *testing.T) {
	build := func(w []int8, zp int8, u8 bool) []byte {
		g := ob.New("adj", 13)
		x := g.QDQ(g.Input("x", ob.Float, 1, 4), qIn)
		var wt *onnxpb.TensorProto
		if u8 {
			u := make([]uint8, len(w))
			for i, v := range w {
				u[i] = uint8(int(v) + 128)
			}
			wt = ob.Uint8Tensor("w", []int64{4, 2}, u)
		} else {
			wt = ob.Int8Tensor("w", []int64{4, 2}, w)
		}
		s := g.Init(ob.FloatTensor("ws", nil, []float32{0.02}))
		var z string
		if u8 {
			z = g.Init(ob.Uint8Tensor("wz", nil, []uint8{uint8(int(zp) + 128)}))
		} else {
			z = g.Init(ob.Int8Tensor("wz", nil, []int8{zp}))
		}
		wd := g.Node("DequantizeLinear", []string{g.Init(wt), s, z})
		g.Output(g.QDQ(g.Node("MatMul", []string{x, wd}), qOut), ob.Float, 1, 2)
		return mustMarshal(t, g)
	}
	w := []int8{-128, 5, 127, -3, 0, -128, 9, 1}
	for _, tc := range []struct {
		name string
		b    []byte
		note string
	}{
		{"-128", build(w, 0, false), "2 of 8 weights"},
		{"zero point", build([]int8{1, 2, 3, 4, 5, 6, 7, 8}, 3, false), "non-zero zero point"},
		{"uint8", build([]int8{1, 2, 3, 4, 5, 6, 7, 8}, 0, true), "non-zero zero point"},
	} {
		res, err := Import(tc.b, Options{})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if !strings.Contains(strings.Join(res.Report.Notes, "\n"), tc.note) {
			t.Errorf("%s: notes %q lack %q", tc.name, res.Report.Notes, tc.note)
		}
	}
	// Float weights are quantized at import, and that is reported.
	g := ob.New("fw", 13)
	x := g.QDQ(g.Input("x", ob.Float, 1, 3), qIn)
	wf := g.Init(ob.FloatTensor("w", []int64{3, 2}, []float32{0.1, -0.2, 0.3, 0.05, -0.4, 0.25}))
	g.Output(g.QDQ(g.Node("MatMul", []string{x, wf}), qOut), ob.Float, 1, 2)
	res, _ := checkModel(t, g, 16, 1, 0.2)
	if !strings.Contains(strings.Join(res.Report.Notes, "\n"), "float weights") {
		t.Errorf("notes %q", res.Report.Notes)
	}
}

// TestDeterministic: the same ONNX bytes give the same model bytes, and
// nothing depends on map order or on earlier imports in the process.
func TestDeterministic(t *testing.T) {
	models := [][]byte{mustMarshal(t, qdqMLP(13))}
	g := ob.New("cnn", 13)
	x := g.QDQ(g.Input("x", ob.Float, 1, 2, 6, 6), qU8)
	y := g.QDQ(g.Node("Conv", []string{x, convWeights(g, 1, 4, 2, 3, 3)}, ob.AttrInts("pads", 1, 1, 1, 1)), qMid)
	y = g.QDQ(g.Node("Sigmoid", []string{y}), qOut)
	g.Output(g.QDQ(g.Node("Softmax", []string{g.Node("Flatten", []string{y})}), ob.Quant{Scale: 1.0 / 256, Zero: -128, Type: ob.Int8}), ob.Float)
	models = append(models, mustMarshal(t, g))
	for _, b := range models {
		first, err := Import(b, Options{})
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 20; i++ {
			again, err := Import(b, Options{})
			if err != nil || !bytes.Equal(again.Bytes, first.Bytes) {
				t.Fatalf("import %d differs (%v)", i, err)
			}
		}
	}
}
