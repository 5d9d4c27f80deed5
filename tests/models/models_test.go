package models_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"flag"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/tests/models/zoo"
)

// The project's own test models (tests/models/*.onnx, written by
// tests/models/gen): each imports, imports to the same bytes every time
// (pinned in testdata/ids.txt), runs bit-identically on every backend this
// machine has and across runs, and the trained classifiers keep their
// accuracy through the conversion.

var update = flag.Bool("update", false, "rewrite testdata/ids.txt with the current model IDs")

type converted struct {
	file string
	m    *onnxpb.ModelProto
	res  *onnx.Result
	meta zoo.Model
}

func load(t *testing.T) []converted {
	t.Helper()
	manifest, err := zoo.ReadManifest(".")
	if err != nil {
		t.Fatal(err)
	}
	var out []converted
	for _, meta := range manifest {
		raw, err := os.ReadFile(meta.File)
		if err != nil {
			t.Fatal(err)
		}
		m, err := onnx.Parse(raw)
		if err != nil {
			t.Fatalf("%s: %v", meta.File, err)
		}
		res, err := onnx.ImportModel(m, onnx.Options{})
		if err != nil {
			t.Fatalf("%s: %v", meta.File, err)
		}
		again, err := onnx.Import(raw, onnx.Options{})
		if err != nil || !bytes.Equal(again.Bytes, res.Bytes) {
			t.Fatalf("%s: a second import gave different bytes (%v)", meta.File, err)
		}
		out = append(out, converted{meta.File, m, res, meta})
	}
	return out
}

func TestModelIDsArePinned(t *testing.T) {
	var lines []string
	for _, c := range load(t) {
		id := inference.ID(c.res.Bytes)
		lines = append(lines, c.file+" 0x"+hex.EncodeToString(id[:]))
	}
	sort.Strings(lines)
	got := strings.Join(lines, "\n") + "\n"
	path := filepath.Join("testdata", "ids.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./tests/models -run IDs -update)", err)
	}
	if got != string(want) {
		t.Errorf("converted model IDs changed (an importer change must say why; then go test ./tests/models -run IDs -update):\ngot\n%swant\n%s", got, want)
	}
}

func TestManifestMatchesFiles(t *testing.T) {
	for _, c := range load(t) {
		raw, _ := os.ReadFile(c.file)
		if got := sha256hex(raw); got != c.meta.SHA256 {
			t.Errorf("%s: sha256 %s, the manifest says %s (regenerate with go run ./tests/models/gen)", c.file, got, c.meta.SHA256)
		}
	}
}

// TestBackendsAgree runs every backend this machine has (runtime.Backends:
// reference always, cpu where its instructions exist) on the same inputs
// twice and requires identical bytes.
func TestBackendsAgree(t *testing.T) {
	backends := runtime.Backends()
	names := []string{}
	for _, b := range backends {
		names = append(names, b.Name())
	}
	t.Logf("backends: %v", names)
	for _, c := range load(t) {
		samples := onnx.RandomSamples(c.m, c.res.Report, 24, 3)
		var want [][]byte
		for bi, b := range backends {
			prog, err := b.Prepare(c.res.Model)
			if err != nil {
				t.Fatalf("%s on %s: %v", c.file, b.Name(), err)
			}
			for round := 0; round < 2; round++ {
				for i, s := range samples {
					in, err := c.res.Report.EncodeInput(s)
					if err != nil {
						t.Fatal(err)
					}
					out, err := prog.Run(in)
					if err != nil {
						t.Fatalf("%s on %s: %v", c.file, b.Name(), err)
					}
					if bi == 0 && round == 0 {
						want = append(want, out)
					} else if !bytes.Equal(out, want[i]) {
						t.Fatalf("%s: %s (round %d) gives %x, %s gave %x", c.file, b.Name(), round, out, backends[0].Name(), want[i])
					}
				}
			}
		}
	}
}

// TestAccuracy: the converted classifiers on the held-out synthetic test
// set, against the float models' accuracy recorded by the generator.
func TestAccuracy(t *testing.T) {
	xs, ys := zoo.TestSet()
	auto, err := runtime.Select("auto")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range load(t) {
		if !c.meta.Classifier {
			continue
		}
		samples := make([]onnx.Sample, len(xs))
		for i := range xs {
			samples[i] = onnx.Sample{Inputs: [][]float64{xs[i]}, Label: ys[i]}
		}
		gap, err := onnx.Compare(c.res, c.m, samples, onnx.CompareOptions{Backend: auto, NoFloat: true})
		if err != nil {
			t.Fatal(err)
		}
		acc := float64(gap.EngineCorrect) / float64(gap.Labeled)
		t.Logf("%s: infergeth (%s) %.4f, quantized ONNX %.4f (manifest %.4f), float %.4f; %d of %d outputs differ from ONNX semantics (max %d step)",
			c.file, auto.Name(), acc, float64(gap.ONNXCorrect)/float64(gap.Labeled), c.meta.QuantizedAccuracy, c.meta.FloatAccuracy, gap.Differing, gap.Elements, gap.MaxStepDiff)
		if acc < c.meta.FloatAccuracy-0.02 {
			t.Errorf("%s: accuracy %.4f is more than 2 points below the float model's %.4f", c.file, acc, c.meta.FloatAccuracy)
		}
		if gap.MaxStepDiff > 1 {
			t.Errorf("%s: an output differs from ONNX semantics by %d steps", c.file, gap.MaxStepDiff)
		}
	}
}

func sha256hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
