package quantize

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/npy"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Limits on sample files: all values of one file, and its size.
const (
	MaxSampleValues = 1 << 25
	MaxSampleBytes  = 512 << 20
)

// LoadSamples reads samples for model m's graph inputs from a file:
//
//   - .npz: one array per graph input, named as the input (a model with
//     one input also takes an archive with one array of any name);
//   - .npy: one array, for a model with one input;
//   - anything else: raw little-endian float32, one input, samples back
//     to back.
//
// An array's first axis counts samples and the rest must hold exactly one
// input's values (e.g. [N, 1, 28, 28] or [N, 784] for an input [1, 1, 28,
// 28]); an array of exactly one input's values is one sample. Declared
// sizes are checked before anything is allocated for them.
func LoadSamples(path string, m *onnxpb.ModelProto, dims map[string]int) ([]onnx.Sample, error) {
	mm := clone(m)
	if _, err := fixDims(mm, dims); err != nil {
		return nil, err
	}
	ins := graphInputs(mm)
	if len(ins) == 0 {
		return nil, fmt.Errorf("the model has no graph inputs")
	}
	raw, err := readFile(path)
	if err != nil {
		return nil, err
	}
	arrays := map[string]*npy.Array{}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".npz":
		named, err := npy.ReadNPZ(raw, MaxSampleValues)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		for _, a := range named {
			arrays[a.Name] = a.Array
		}
		if len(ins) == 1 && len(named) == 1 {
			arrays = map[string]*npy.Array{ins[0].Name: named[0].Array}
		}
	case ".npy":
		a, err := npy.Read(bytes.NewReader(raw), MaxSampleValues)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		if len(ins) != 1 {
			return nil, fmt.Errorf("%s: one array for a model with %d inputs: use an .npz with one array per input name", path, len(ins))
		}
		arrays[ins[0].Name] = a
	default:
		if len(ins) != 1 {
			return nil, fmt.Errorf("%s: raw float32 data for a model with %d inputs: use an .npz with one array per input name", path, len(ins))
		}
		if len(raw)%4 != 0 {
			return nil, fmt.Errorf("%s: %d bytes is not a whole number of float32 values", path, len(raw))
		}
		a := &npy.Array{DType: "<f4", Shape: []int{len(raw) / 4}, Values: make([]float64, len(raw)/4)}
		for i := range a.Values {
			v := float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:])))
			if math.IsNaN(v) || math.IsInf(v, 0) {
				return nil, fmt.Errorf("%s: value %d is %v", path, i, v)
			}
			a.Values[i] = v
		}
		arrays[ins[0].Name] = a
	}
	var out []onnx.Sample
	for i, vi := range ins {
		a, ok := arrays[vi.Name]
		if !ok {
			return nil, fmt.Errorf("%s: no array named %q (the model's input %d)", path, vi.Name, i+1)
		}
		per := product(inputShape(vi))
		n := 0
		switch {
		case len(a.Values) == per && (len(a.Shape) == 0 || a.Shape[0] != len(a.Values) || per == 1):
			n = 1
		case len(a.Shape) >= 1 && a.Shape[0] > 0 && product(a.Shape[1:]) == per:
			n = a.Shape[0]
		case len(a.Shape) == 1 && per > 0 && len(a.Values)%per == 0:
			n = len(a.Values) / per // raw data
		default:
			return nil, fmt.Errorf("%s: array %q of shape %v does not hold samples of input %q (%v, %d values each)", path, vi.Name, a.Shape, vi.Name, inputShape(vi), per)
		}
		if i == 0 {
			out = make([]onnx.Sample, n)
			for k := range out {
				out[k].Label = -1
			}
		} else if n != len(out) {
			return nil, fmt.Errorf("%s: array %q holds %d samples, array %q %d", path, vi.Name, n, ins[0].Name, len(out))
		}
		for k := range out {
			out[k].Inputs = append(out[k].Inputs, a.Values[k*per:(k+1)*per])
		}
	}
	return out, nil
}

// LoadLabels reads one class per sample: an .npy of integers, or text with
// one integer per line (blank lines and # comments skipped).
func LoadLabels(path string) ([]int, error) {
	raw, err := readFile(path)
	if err != nil {
		return nil, err
	}
	var vals []float64
	if strings.ToLower(filepath.Ext(path)) == ".npy" {
		a, err := npy.Read(bytes.NewReader(raw), MaxSampleValues)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		vals = a.Values
	} else {
		for i, line := range strings.Split(string(raw), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			v, err := strconv.Atoi(line)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %q is not an integer class", path, i+1, line)
			}
			vals = append(vals, float64(v))
		}
	}
	out := make([]int, len(vals))
	for i, v := range vals {
		if v != math.Trunc(v) || v < 0 || v > 1<<30 {
			return nil, fmt.Errorf("%s: label %d (%v) is not a class index", path, i+1, v)
		}
		out[i] = int(v)
	}
	return out, nil
}

func readFile(path string) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if st.Size() > MaxSampleBytes {
		return nil, fmt.Errorf("%s: %d bytes; sample files are limited to %d", path, st.Size(), MaxSampleBytes)
	}
	return os.ReadFile(path)
}
