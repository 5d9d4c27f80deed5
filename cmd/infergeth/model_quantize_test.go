package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/npy"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
)

// smallFloatModel writes a float Conv → Relu → GlobalAveragePool →
// Flatten → Gemm classifier and returns its path.
func smallFloatModel(t *testing.T, dir string) string {
	t.Helper()
	r := rand.New(rand.NewPCG(1, 1))
	rnd := func(n int, std float64) []float32 {
		out := make([]float32, n)
		for i := range out {
			out[i] = float32(r.NormFloat64() * std)
		}
		return out
	}
	g := ob.New("small", 13)
	x := g.Input("x", ob.Float, 1, 2, 6, 6)
	h := g.Node("Conv", []string{x, g.Init(ob.FloatTensor("w", []int64{4, 2, 3, 3}, rnd(72, 0.3))), g.Init(ob.FloatTensor("b", []int64{4}, rnd(4, 0.1)))},
		ob.AttrInts("pads", 1, 1, 1, 1))
	h = g.Node("GlobalAveragePool", []string{g.Node("Relu", []string{h})})
	h = g.Node("Flatten", []string{h})
	h = g.NodeTo("logits", "Gemm", []string{h, g.Init(ob.FloatTensor("fw", []int64{3, 4}, rnd(12, 0.5))), g.Init(ob.FloatTensor("fb", []int64{3}, rnd(3, 0.1)))},
		ob.AttrInt("transB", 1))
	g.Output(h, ob.Float, 1, 3)
	raw, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "small.onnx")
	if err := os.WriteFile(path, raw, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func writeSamples(t *testing.T, path string, n int, seed uint64) [][]float32 {
	t.Helper()
	r := rand.New(rand.NewPCG(seed, 3))
	var all []float32
	var out [][]float32
	for i := 0; i < n; i++ {
		s := make([]float32, 72)
		for k := range s {
			s[k] = float32(r.NormFloat64())
		}
		out = append(out, s)
		all = append(all, s...)
	}
	var buf bytes.Buffer
	if strings.HasSuffix(path, ".npy") {
		if err := npy.Write(&buf, []int{n, 2, 6, 6}, all); err != nil {
			t.Fatal(err)
		}
	} else {
		for _, v := range all {
			binary.Write(&buf, binary.LittleEndian, math.Float32bits(v))
		}
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestModelQuantize(t *testing.T) {
	dir := t.TempDir()
	model := smallFloatModel(t, dir)
	calib := filepath.Join(dir, "calib.npy")
	writeSamples(t, calib, 40, 1)
	raw := filepath.Join(dir, "calib.f32")
	writeSamples(t, raw, 40, 1)
	eval := filepath.Join(dir, "eval.npy")
	writeSamples(t, eval, 20, 2)
	labels := filepath.Join(dir, "labels.txt")
	os.WriteFile(labels, []byte(strings.Repeat("1\n", 20)), 0o644)

	out := filepath.Join(dir, "small.bin")
	qdq := filepath.Join(dir, "small_qdq.onnx")
	stdout, stderr, code := runCLI(t, "model", "quantize", model, "--calibration", calib, "-o", out, "--onnx-out", qdq,
		"--eval", eval, "--labels", labels, "--progress")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	for _, want := range []string{"calibrated on 40 samples (minmax)", "x: ONNX float [1 2 6 6] → int8", "logits: ONNX float [1 3]",
		"Accuracy on 20 held-aside samples", "top-1 agreement", "top-1 accuracy on 20 labels", "wrote " + qdq, "wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if !strings.Contains(stderr, "calibrating") || !strings.Contains(stderr, "40/40") {
		t.Errorf("no progress bar on stderr with --progress: %q", stderr)
	}
	first, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := inference.Decode(first); err != nil {
		t.Fatalf("the written model does not decode: %v", err)
	}
	// Without --progress and not on a terminal: no bar. Raw float32 data
	// gives the same model as the .npy holding the same values.
	out2 := filepath.Join(dir, "again.bin")
	_, stderr, code = runCLI(t, "model", "quantize", model, "--calibration", raw, "-o", out2)
	if code != 0 || stderr != "" {
		t.Fatalf("exit %d, stderr %q", code, stderr)
	}
	if second, _ := os.ReadFile(out2); !bytes.Equal(first, second) {
		t.Error("the same model and data gave other bytes")
	}
	// JSON.
	stdout, stderr, code = runCLI(t, "model", "quantize", model, "--calibration", calib, "-o", out2, "--eval", eval, "--json", "--method", "percentile")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	var rep struct {
		ID       string
		Method   string
		Ranges   []struct{ Name string }
		Accuracy struct {
			Samples int
			Outputs []struct {
				Name        string
				MaxAbsError float64
			}
		}
	}
	if err := json.Unmarshal([]byte(stdout), &rep); err != nil {
		t.Fatalf("%v: %s", err, stdout)
	}
	if rep.Method != "percentile" || len(rep.Ranges) == 0 || rep.Accuracy.Samples != 20 || len(rep.Accuracy.Outputs) != 1 || rep.Accuracy.Outputs[0].Name != "logits" {
		t.Errorf("JSON report %+v", rep)
	}
}

func TestModelQuantizeRefusals(t *testing.T) {
	dir := t.TempDir()
	model := smallFloatModel(t, dir)
	calib := filepath.Join(dir, "calib.npy")
	writeSamples(t, calib, 4, 1)
	out := filepath.Join(dir, "never.bin")
	bad := filepath.Join(dir, "bad.npy")
	var buf bytes.Buffer
	npy.Write(&buf, []int{3, 5}, make([]float32, 15))
	os.WriteFile(bad, buf.Bytes(), 0o644)
	lstm := ob.New("lstm", 13)
	x := lstm.Input("x", ob.Float, 1, 2, 6, 6)
	lstm.Output(lstm.Node("Resize", []string{lstm.Node("LSTM", []string{x})}), ob.Float)
	lraw, _ := lstm.Marshal()
	lpath := filepath.Join(dir, "lstm.onnx")
	os.WriteFile(lpath, lraw, 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{model, "-o", out}, "Usage"},
		{[]string{model, "--calibration", bad, "-o", out}, "does not hold samples of input \"x\""},
		{[]string{model, "--calibration", filepath.Join(dir, "missing.npy"), "-o", out}, "no such file"},
		{[]string{model, "--calibration", calib, "-o", out, "--method", "entropy"}, "calibration method"},
		{[]string{model, "--calibration", calib, "-o", out, "--labels", calib}, "--labels needs --eval"},
		{[]string{lpath, "--calibration", calib, "-o", out}, "2 node(s) cannot be quantized"},
	} {
		_, stderr, code := runCLI(t, append([]string{"model", "quantize"}, tc.args...)...)
		if code == 0 || !strings.Contains(stderr, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want a failure mentioning %q", tc.args, code, stderr, tc.want)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a refused quantization wrote its output")
	}
}
