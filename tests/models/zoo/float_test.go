package zoo

import (
	"bytes"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/quantize"
	"github.com/infergeth/infergeth/inference/runtime"
	"google.golang.org/protobuf/proto"
)

func samples(xs [][]float64, labels []int) []onnx.Sample {
	out := make([]onnx.Sample, len(xs))
	for i, x := range xs {
		out[i] = onnx.Sample{Inputs: [][]float64{x}, Label: -1}
		if labels != nil {
			out[i].Label = labels[i]
		}
	}
	return out
}

// TestQuantizeFloatModels: `infergeth model quantize`'s library on the
// project's own float models. The MLP and the CNN quantize to exactly the
// committed QDQ files (which onnxruntime runs bit-exactly, make
// test-onnx); every classifier keeps its top-1 accuracy within 1 point of
// the float model on the 1,000 held-out samples; the transformer block
// agrees with its float model on most rows.
func TestQuantizeFloatModels(t *testing.T) {
	backend, err := runtime.Select("auto")
	if err != nil {
		t.Fatal(err)
	}
	for _, fm := range FloatModels(t.Logf) {
		t.Run(fm.Name, func(t *testing.T) {
			res, err := quantize.Quantize(fm.Model, samples(fm.Calib, nil), quantize.Options{Activations: fm.Activations})
			if err != nil {
				t.Fatal(err)
			}
			if fm.Name == "mlp" || fm.Name == "cnn" {
				want, err := os.ReadFile(filepath.Join("..", fm.Name+".onnx"))
				if err != nil {
					t.Fatal(err)
				}
				// The nodes keep the float model's names; the committed
				// files were written with generated ones. Otherwise equal.
				got, err := onnx.Parse(res.QDQBytes)
				if err != nil {
					t.Fatal(err)
				}
				wm, err := onnx.Parse(want)
				if err != nil {
					t.Fatal(err)
				}
				if len(got.Graph.Node) != len(wm.Graph.Node) {
					t.Fatalf("%d nodes, the committed %s.onnx %d", len(got.Graph.Node), fm.Name, len(wm.Graph.Node))
				}
				for i, n := range got.Graph.Node {
					n.Name = wm.Graph.Node[i].Name
				}
				raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(got)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(raw, want) {
					t.Errorf("the QDQ model differs from the committed %s.onnx (beyond node names)", fm.Name)
				}
			}
			acc, err := quantize.Evaluate(res, samples(fm.Test, fm.Labels), backend)
			if err != nil {
				t.Fatal(err)
			}
			o := acc.Outputs[0]
			t.Logf("%s: float %.2f%%, quantized %.2f%% on %d; top-1 agreement %d/%d; max |error| %.4g, mean %.4g; engine ops %d",
				fm.Name, 100*acc.FloatAccuracy(), 100*acc.QuantAccuracy(), acc.Labeled, o.Top1Agree, o.Rows, o.MaxAbs, o.MeanAbs, len(res.Import.Model.Nodes))
			if fm.Labels != nil {
				if d := math.Abs(acc.QuantAccuracy() - acc.FloatAccuracy()); d > 0.01 {
					t.Errorf("top-1 accuracy moved %.2f points (float %.2f%%, quantized %.2f%%); the target is within 1", 100*d, 100*acc.FloatAccuracy(), 100*acc.QuantAccuracy())
				}
				if acc.FloatAccuracy() < 0.8 {
					t.Errorf("float accuracy %.2f%%: the model did not train", 100*acc.FloatAccuracy())
				}
			} else if float64(o.Top1Agree) < 0.9*float64(o.Rows) {
				t.Errorf("top-1 agreement %d of %d rows", o.Top1Agree, o.Rows)
			}
		})
	}
}
