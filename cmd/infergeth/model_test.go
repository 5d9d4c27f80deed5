package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	return out.String(), errOut.String(), code
}

const vectorDir = "../../tests/vectors"

func TestModelInspectJSON(t *testing.T) {
	out, errOut, code := runCLI(t, "model", "inspect", filepath.Join(vectorDir, "mlp/model.bin"))
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var got map[string]any
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("not JSON: %v\n%s", err, out)
	}
	for _, k := range []string{"id", "inputBytes", "outputBytes", "macs", "gas", "ops"} {
		if _, ok := got[k]; !ok {
			t.Errorf("missing %q", k)
		}
	}
	if got["inputBytes"].(float64) != 96 || got["outputBytes"].(float64) != 14 {
		t.Errorf("sizes %v %v", got["inputBytes"], got["outputBytes"])
	}
	if id := got["id"].(string); !strings.HasPrefix(id, "0x") || len(id) != 66 {
		t.Errorf("id %q", id)
	}
	// The class tensor starts after the ten int8 logits (inference.TensorLayout).
	if outs := got["outputs"].([]any); len(outs) != 2 || outs[1].(map[string]any)["offset"] != float64(10) {
		t.Errorf("outputs %v: want the second at offset 10", got["outputs"])
	}
	if n := len(got["ops"].([]any)); n != 4 {
		t.Errorf("%d ops, want 4 (3 FullyConnected, 1 ArgMax)", n)
	}
}

func TestModelRunMatchesVector(t *testing.T) {
	want, err := os.ReadFile(filepath.Join(vectorDir, "cnn/output.hex"))
	if err != nil {
		t.Fatal(err)
	}
	in, err := os.ReadFile(filepath.Join(vectorDir, "cnn/input.hex"))
	if err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"model", "run", filepath.Join(vectorDir, "cnn/model.bin"), "--input", strings.TrimSpace(string(in))},
		{"model", "run", "--backend", "reference", "--input", "0x" + strings.TrimSpace(string(in)), filepath.Join(vectorDir, "cnn/model.bin")},
		{"model", "run", filepath.Join(vectorDir, "cnn/model.bin"), "--input", "@" + filepath.Join(vectorDir, "cnn/input.hex")},
	} {
		out, errOut, code := runCLI(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		if out != string(want) {
			t.Errorf("%v: got %q want %q", args, out, want)
		}
	}
}

func TestModelRunRefusesBadInput(t *testing.T) {
	model := filepath.Join(vectorDir, "mlp/model.bin")
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"model", "run", model, "--input", "00"}, "input is 1 bytes; the model takes 96"},
		{[]string{"model", "run", model, "--input", strings.Repeat("00", 97)}, "input is 97 bytes; the model takes 96"},
		{[]string{"model", "run", model, "--input", "zz"}, "not hex"},
		{[]string{"model", "run", model}, "--input is required"},
		{[]string{"model", "run", model, "--input", strings.Repeat("00", 96), "--backend", "tpu"}, `backend "tpu" is not available`},
		{[]string{"model", "run", "/nonexistent/model.bin", "--input", "00"}, "no such file"},
		{[]string{"model", "inspect", "model_test.go"}, "invalid model: header.magic"},
	} {
		_, errOut, code := runCLI(t, c.args...)
		if code == 0 || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, stderr %q; want an error containing %q", c.args, code, errOut, c.want)
		}
	}
}
