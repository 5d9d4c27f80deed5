package main

import (
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/infergeth/infergeth/inference/onnx"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/tests/models/zoo"
)

const modelsDir = "../../tests/models"

// dirFiles lists a folder, to prove nothing (not even a temporary file)
// was left behind.
func dirFiles(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

func TestModelImportConvertsAndReports(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "cnn.bin")
	stdout, errOut, code := runCLI(t, "model", "import", filepath.Join(modelsDir, "cnn.onnx"), "-o", out, "-n", "8")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	for _, want := range []string{"Conv", "Conv2D", "MaxPool2D", "FullyConnected", "Inputs", "x: ONNX float [1 1 28 28] → int8",
		"Outputs", "against ONNX semantics", "wrote " + out} {
		if !strings.Contains(stdout, want) {
			t.Errorf("report lacks %q:\n%s", want, stdout)
		}
	}
	if got := dirFiles(t, dir); len(got) != 1 || got[0] != "cnn.bin" {
		t.Errorf("folder holds %v", got)
	}
	// The written model runs, and the CLI's run gives the same bytes on
	// every backend.
	raw, _ := os.ReadFile(filepath.Join(modelsDir, "cnn.onnx"))
	res, err := onnx.Import(raw, onnx.Options{})
	if err != nil {
		t.Fatal(err)
	}
	xs, _ := zoo.TestSet()
	in, err := res.Report.EncodeInput(onnx.Sample{Inputs: [][]float64{xs[0]}})
	if err != nil {
		t.Fatal(err)
	}
	var first string
	for _, b := range runtime.Backends() {
		got, errOut, code := runCLI(t, "model", "run", out, "--backend", b.Name(), "--input", hex.EncodeToString(in))
		if code != 0 {
			t.Fatalf("%s: exit %d: %s", b.Name(), code, errOut)
		}
		if first == "" {
			first = got
		} else if got != first {
			t.Errorf("%s gives %s, want %s", b.Name(), got, first)
		}
	}
}

func TestModelImportSamplesAndJSON(t *testing.T) {
	dir := t.TempDir()
	xs, ys := zoo.TestSet()
	var sb strings.Builder
	for i := 0; i < 20; i++ {
		sb.WriteString(strconv.Itoa(ys[i]) + ":")
		for _, v := range xs[i] {
			sb.WriteString(" " + strconv.FormatFloat(v, 'g', -1, 64))
		}
		sb.WriteString("\n")
	}
	samples := filepath.Join(dir, "digits.txt")
	if err := os.WriteFile(samples, []byte("# 20 test digits\n"+sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, errOut, code := runCLI(t, "model", "import", filepath.Join(modelsDir, "mlp.onnx"), "-o", filepath.Join(dir, "mlp.bin"),
		"--samples", samples, "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got struct {
		ID       string
		Accuracy onnx.Gap
		Report   onnx.Report
	}
	if err := json.Unmarshal([]byte(stdout), &got); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if got.Accuracy.Samples != 20 || got.Accuracy.Labeled != 20 || got.Accuracy.EngineCorrect < 16 {
		t.Errorf("accuracy %+v", got.Accuracy)
	}
	if !strings.HasPrefix(got.ID, "0x") || len(got.Report.Nodes) == 0 {
		t.Errorf("id %q, %d nodes", got.ID, len(got.Report.Nodes))
	}
}

// Refused imports exit non-zero with the reason and write nothing: no
// output, no temporary file, and an existing output is left as it was.
func TestModelImportRefusesAndWritesNothing(t *testing.T) {
	dir := t.TempDir()
	g := ob.New("lstm", 13)
	x := g.Input("x", ob.Float, 1, 4)
	g.Output(g.Node("LSTM", []string{g.Dequantize(g.Quantize(x, ob.Quant{Scale: 0.1, Type: ob.Int8}), ob.Quant{Scale: 0.1, Type: ob.Int8})}), ob.Float)
	lstm, err := g.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	f := ob.New("float", 13)
	fx := f.Input("x", ob.Float, 1, 4)
	f.Output(f.Node("Relu", []string{fx}), ob.Float, 1, 4)
	float, err := f.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	bad := map[string][]byte{
		"garbage.onnx": []byte("not a model\x00\xff\xff\x01"),
		"empty.onnx":   {},
		"lstm.onnx":    lstm,
		"float.onnx":   float,
	}
	for name, b := range bad {
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	existing := filepath.Join(dir, "keep.bin")
	if err := os.WriteFile(existing, []byte("previous"), 0o644); err != nil {
		t.Fatal(err)
	}
	before := dirFiles(t, dir)
	for _, tc := range []struct {
		in, out, want string
	}{
		{"garbage.onnx", "x.bin", "malformed"},
		{"empty.onnx", "keep.bin", "empty file"},
		{"missing.onnx", "x.bin", "no such file"},
		{"lstm.onnx", "x.bin", "LSTM"},
		{"float.onnx", "keep.bin", "float-only"},
	} {
		_, errOut, code := runCLI(t, "model", "import", filepath.Join(dir, tc.in), "-o", filepath.Join(dir, tc.out))
		if code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%s: exit %d, stderr %q; want an error mentioning %q", tc.in, code, errOut, tc.want)
		}
	}
	if after := dirFiles(t, dir); strings.Join(after, ",") != strings.Join(before, ",") {
		t.Errorf("files before %v, after %v", before, after)
	}
	if b, _ := os.ReadFile(existing); string(b) != "previous" {
		t.Errorf("existing output changed to %q", b)
	}
	// An unwritable destination fails cleanly too.
	_, errOut, code := runCLI(t, "model", "import", filepath.Join(modelsDir, "cnn.onnx"), "-o", filepath.Join(dir, "no", "such", "dir", "m.bin"), "-n", "1")
	if code == 0 || !strings.Contains(errOut, "no such file") {
		t.Errorf("exit %d, %q", code, errOut)
	}
	if _, _, code := runCLI(t, "model", "import", filepath.Join(modelsDir, "cnn.onnx")); code != 2 {
		t.Errorf("without -o: exit %d, want 2 (usage)", code)
	}
}
