// Package ortrun is what ortcheck and quantcheck share to compare infergeth
// with onnxruntime-node on the same inputs: running onnxruntime (through
// tests/models/ort/run.mjs), the float values an int8 input stands for, and
// the output step a float result falls on.
package ortrun

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/infergeth/infergeth/inference/onnx"
)

// Run runs onnxruntime-node on inputs and returns its first output per
// sample and onnxruntime's version. It runs from the repository root.
func Run(node, model string, inputs [][]float64) ([][]float64, string, error) {
	req, err := json.Marshal(map[string]any{"inputs": inputs})
	if err != nil {
		return nil, "", err
	}
	cmd := exec.Command(node, filepath.Join("tests", "models", "ort", "run.mjs"), "run", model)
	cmd.Stdin = bytes.NewReader(req)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	outb, err := cmd.Output()
	if err != nil {
		return nil, "", fmt.Errorf("onnxruntime-node: %v: %s (run make tools)", err, strings.TrimSpace(stderr.String()))
	}
	var resp struct {
		Version string
		Outputs [][]float64
	}
	if err := json.Unmarshal(outb, &resp); err != nil {
		return nil, "", fmt.Errorf("onnxruntime-node output: %v", err)
	}
	if len(resp.Outputs) != len(inputs) {
		return nil, "", fmt.Errorf("onnxruntime-node returned %d outputs for %d inputs", len(resp.Outputs), len(inputs))
	}
	return resp.Outputs, resp.Version, nil
}

// Dequantize returns the real values infergeth's int8 input bytes stand
// for, so onnxruntime starts from the very integers infergeth runs.
func Dequantize(io onnx.IOReport, in []byte) []float64 {
	out := make([]float64, len(in))
	for k, b := range in {
		out[k] = io.Scale * float64(int64(int8(b))-int64(io.ZeroPoint))
	}
	return out
}

// Step returns the output quantization step a real value falls on (round
// half to even, as the ONNX QuantizeLinear does).
func Step(io onnx.IOReport, v float64) int64 {
	return int64(math.RoundToEven(v/io.Scale)) + int64(io.ZeroPoint)
}

// Argmax returns the index of the first largest value.
func Argmax[T int64 | float64](v []T) int {
	best := 0
	for i, x := range v {
		if x > v[best] {
			best = i
		}
	}
	return best
}

// Abs returns |v|.
func Abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
