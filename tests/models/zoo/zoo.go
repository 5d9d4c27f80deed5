// Package zoo makes the project's own test models: ONNX files written from
// Go, trained (the MLP and the CNN) or seeded (the transformer block) here,
// quantized here, so their provenance is this code and nothing else.
//
// Generate writes them; tests/models/gen is its command and
// tests/models/README.md says what each file is. The tests read the
// committed files and use this package for the synthetic data sets.
package zoo

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/infergeth/infergeth/inference/onnx"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// The data sets and training budgets. Changing any of these changes the
// committed models.
const (
	TrainSeed   = 101
	TestSeed    = 202
	TrainSize   = 4000
	TestSize    = 1000
	CalibSize   = 256
	MLPEpochs   = 3
	CNNTrain    = 3000
	CNNEpochs   = 2
	WeightSeed  = 7
	BlockSeed   = 2027
	BlockCalib  = 64
	BlockInputs = 303 // seed of the transformer's calibration inputs
)

// ManifestFile lists the models, their provenance and accuracy.
const ManifestFile = "models.json"

// Model is one entry of the manifest.
type Model struct {
	File        string `json:"file"`
	Description string `json:"description"`
	Form        string `json:"form"` // "QDQ" or "QOperator"
	Opset       int64  `json:"opset"`
	Activations string `json:"activations"`
	SHA256      string `json:"sha256"`
	// Accuracy on the synthetic test set (classifiers only): the float
	// model and the quantized ONNX model, both evaluated in float64 by the
	// importer's reference evaluator.
	FloatAccuracy     float64 `json:"floatAccuracy,omitempty"`
	QuantizedAccuracy float64 `json:"quantizedAccuracy,omitempty"`
	Classifier        bool    `json:"classifier"`
}

// TestSet is the held-out synthetic digits set the accuracy numbers use.
func TestSet() ([][]float64, []int) { return Digits(TestSize, TestSeed) }

// BlockInputs draws inputs for the transformer block (N(0, 1) entries).
func BlockSamples(n int, seed uint64) [][]float64 { return transformerInputs(n, seed) }

func tensorsOf(name string, shape []int, xs [][]float64) []map[string]*onnx.Tensor {
	out := make([]map[string]*onnx.Tensor, len(xs))
	for i, x := range xs {
		out[i] = map[string]*onnx.Tensor{name: {Elem: onnxpb.TensorProto_FLOAT, Shape: shape, Data: x}}
	}
	return out
}

// evalAccuracy runs model m (input "x") on xs and counts argmax == label.
func evalAccuracy(m *onnxpb.ModelProto, shape []int, xs [][]float64, ys []int) (float64, error) {
	ev, err := onnx.NewEvaluator(m)
	if err != nil {
		return 0, err
	}
	right := 0
	for i, in := range tensorsOf("x", shape, xs) {
		out, err := ev.Run(in)
		if err != nil {
			return 0, err
		}
		best := 0
		for j, v := range out[0].Data {
			if v > out[0].Data[best] {
				best = j
			}
		}
		if best == ys[i] {
			right++
		}
	}
	return float64(right) / float64(len(xs)), nil
}

type built struct {
	name, desc string
	float      *onnxpb.ModelProto
	shape      []int
	calib      [][]float64
	typ        int32
	qop        bool
	classifier bool
}

// Generate trains, quantizes and writes every model into dir, with the
// manifest. With floats, it also writes the float models (NAME_float.onnx),
// which are not committed. logf reports progress.
func Generate(dir string, floats bool, logf func(format string, args ...any)) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	logf("data: synthetic digits, %d train (seed %d), %d test (seed %d)", TrainSize, TrainSeed, TestSize, TestSeed)
	xs, ys := Digits(TrainSize, TrainSeed)
	tx, ty := TestSet()
	calib := xs[:CalibSize]

	logf("training the MLP 784-256-128-10 (%d epochs)", MLPEpochs)
	mlp := trainMLP([]int{Pixels, 256, 128, Classes}, xs, ys, MLPEpochs, WeightSeed)
	logf("training the CNN (%d samples, %d epochs)", CNNTrain, CNNEpochs)
	cnn := trainCNN(xs[:CNNTrain], ys[:CNNTrain], CNNEpochs, WeightSeed)

	mlpF, cnnF := mlpGraph(mlp), cnnGraph(cnn)
	blockF := transformerGraph(BlockSeed)
	imgShape, flatShape := []int{1, 1, Side, Side}, []int{1, Pixels}
	blockShape := []int{1, SeqLen, Width}
	models := []built{
		{"mlp", "MLP 784-256-128-10 (ReLU), trained on synthetic digits; QDQ, uint8 activations", mlpF, flatShape, calib, ob.Uint8, false, true},
		{"mlp_qop", "the same MLP in QOperator form (com.microsoft.QGemm)", mlpF, flatShape, calib, ob.Uint8, true, true},
		{"cnn", "CNN conv3x3(6)-pool-conv3x3(12)-pool-fc10, trained on synthetic digits; QDQ, uint8 activations", cnnF, imgShape, calib, ob.Uint8, false, true},
		{"cnn_qop", "the same CNN in QOperator form (QLinearConv, MaxPool on uint8, com.microsoft.QGemm)", cnnF, imgShape, calib, ob.Uint8, true, true},
		{"transformer", "pre-norm transformer encoder block (16 tokens, width 64, 4 heads, FFN 128, GELU), seeded random weights; QDQ, int8 activations, opset 20 (Gelu)", blockF, blockShape, transformerInputs(BlockCalib, BlockInputs), ob.Int8, false, false},
	}
	var manifest []Model
	for _, b := range models {
		logf("quantizing %s", b.name)
		cal, err := calibrate(b.float, tensorsOf("x", b.shape, b.calib))
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		var q *onnxpb.ModelProto
		form := "QDQ"
		if b.qop {
			form = "QOperator"
			q, err = toQOperator(b.float, cal, b.typ)
		} else {
			q, err = toQDQ(b.float, cal, b.typ)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", b.name, err)
		}
		raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(q)
		if err != nil {
			return err
		}
		sum := sha256.Sum256(raw)
		entry := Model{File: b.name + ".onnx", Description: b.desc, Form: form, Opset: opsetOf(q),
			Activations: map[int32]string{ob.Uint8: "uint8", ob.Int8: "int8"}[b.typ], SHA256: hex.EncodeToString(sum[:]), Classifier: b.classifier}
		if b.classifier {
			if entry.FloatAccuracy, err = evalAccuracy(b.float, b.shape, tx, ty); err != nil {
				return err
			}
			if entry.QuantizedAccuracy, err = evalAccuracy(q, b.shape, tx, ty); err != nil {
				return err
			}
			logf("%s: float %.4f, quantized ONNX %.4f on %d test samples", b.name, entry.FloatAccuracy, entry.QuantizedAccuracy, len(tx))
		}
		if err := os.WriteFile(filepath.Join(dir, entry.File), raw, 0o644); err != nil {
			return err
		}
		if floats && !b.qop {
			fraw, err := proto.MarshalOptions{Deterministic: true}.Marshal(b.float)
			if err != nil {
				return err
			}
			if err := os.WriteFile(filepath.Join(dir, b.name+"_float.onnx"), fraw, 0o644); err != nil {
				return err
			}
		}
		manifest = append(manifest, entry)
	}
	js, err := json.MarshalIndent(manifest, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), append(js, '\n'), 0o644)
}

// ReadManifest reads dir's manifest.
func ReadManifest(dir string) ([]Model, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var out []Model
	if err := json.Unmarshal(b, &out); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	return out, nil
}

// WriteIdentity writes a float [1] → Identity → [1] model: the cost of a
// call that does nothing, for the benchmark.
func WriteIdentity(path string) error {
	g := ob.New("identity", 13)
	x := g.Input("x", ob.Float, 1)
	g.Output(g.Node("Identity", []string{x}), ob.Float, 1)
	raw, err := g.Marshal()
	if err != nil {
		return err
	}
	return os.WriteFile(path, raw, 0o644)
}
