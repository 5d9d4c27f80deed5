package onnx

import (
	"bytes"
	"os"
	"testing"

	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
)

// FuzzImport: no byte string makes the importer panic, and whatever it
// accepts it converts to the same bytes twice. The seeds are small models
// of every form (make fuzz runs it longer).
func FuzzImport(f *testing.F) {
	f.Add(mustMarshal(f, qdqMLP(13)))
	g := ob.New("cnn", 13)
	x := g.QDQ(g.Input("x", ob.Float, 1, 2, 6, 6), qU8)
	y := g.QDQ(g.Node("Conv", []string{x, convWeights(g, 1, 4, 2, 3, 3)}, ob.AttrInts("pads", 1, 1, 1, 1)), qMid)
	y = g.QDQ(g.Node("MaxPool", []string{y}, ob.AttrInts("kernel_shape", 2, 2)), qMid)
	y = g.QDQ(g.Node("GlobalAveragePool", []string{y}), qOut)
	g.Output(g.QDQ(g.Node("Softmax", []string{g.Node("Flatten", []string{y})}), ob.Quant{Scale: 1.0 / 256, Zero: -128, Type: ob.Int8}), ob.Float)
	f.Add(mustMarshal(f, g))
	for _, name := range []string{"cnn_qop.onnx", "cnn.onnx"} {
		if b, err := os.ReadFile("../../tests/models/" + name); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte{})
	f.Add([]byte{0x3a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, data []byte) {
		res, err := Import(data, Options{})
		if err != nil {
			return
		}
		again, err := Import(data, Options{})
		if err != nil || !bytes.Equal(res.Bytes, again.Bytes) {
			t.Fatalf("accepted once, then %v / different bytes", err)
		}
	})
}
