package onnx

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Sample is one call of an ONNX model: the values of each graph input, in
// graph order, flattened row-major. Label is the expected class, or −1.
type Sample struct {
	Inputs [][]float64
	Label  int
}

// Gap is the accuracy of a converted model on samples, measured against
// the ONNX model two ways.
type Gap struct {
	Samples int
	Backend string

	// Against ONNX semantics: the quantized ONNX model evaluated exactly
	// (float64, QuantizeLinear rounding half to even). The difference is
	// the engine's integer requantization; it counts output elements.
	Elements     int
	Differing    int
	MaxStepDiff  int64 // in output quantization steps
	ONNXArgAgree int   // argmax (first output, last axis) equal to the ONNX semantics'

	// Against a float reference: the float model (--float), or the QDQ
	// model with its activations left unquantized. Empty when none.
	FloatRef    string
	MaxAbsDiff  float64 // first output, real units
	MeanAbsDiff float64
	ArgRows     int // rows compared by argmax (first output, last axis)
	ArgAgree    int // rows where the engine's argmax equals the float reference's

	// With labels: how many samples each gets right.
	Labeled, EngineCorrect, FloatCorrect, ONNXCorrect int
}

// graphInputs lists the ONNX graph inputs that are not initializers.
func graphInputs(m *onnxpb.ModelProto) []*onnxpb.ValueInfoProto {
	inits := map[string]bool{}
	for _, t := range m.Graph.Initializer {
		inits[t.Name] = true
	}
	var out []*onnxpb.ValueInfoProto
	for _, vi := range m.Graph.Input {
		if !inits[vi.Name] {
			out = append(out, vi)
		}
	}
	return out
}

// SplitInputs splits the values of all graph inputs, concatenated in
// order, into one slice per input.
func SplitInputs(m *onnxpb.ModelProto, vals []float64) ([][]float64, error) {
	var out [][]float64
	off := 0
	for _, vi := range graphInputs(m) {
		n := 1
		if tt := vi.GetType().GetTensorType(); tt != nil && tt.Shape != nil {
			for _, d := range tt.Shape.Dim {
				n *= max(1, int(d.GetDimValue()))
			}
		}
		if off+n > len(vals) {
			return nil, fmt.Errorf("%d values; the model's inputs take more", len(vals))
		}
		out = append(out, vals[off:off+n])
		off += n
	}
	if off != len(vals) {
		return nil, fmt.Errorf("%d values; the model's inputs take %d", len(vals), off)
	}
	return out, nil
}

// EncodeInput turns a sample into the converted model's input bytes: float
// values are quantized with the input's scale and zero point (as ONNX
// QuantizeLinear does), integers are shifted to the engine's int8 or
// written as int32.
func (r *Report) EncodeInput(s Sample) ([]byte, error) {
	var out []byte
	for _, io := range r.Inputs {
		if io.position >= len(s.Inputs) {
			return nil, fmt.Errorf("sample has %d inputs; input %q is number %d", len(s.Inputs), io.Name, io.position+1)
		}
		vals := s.Inputs[io.position]
		if len(vals) != product(io.Shape) {
			return nil, fmt.Errorf("input %q takes %d values, the sample has %d", io.Name, product(io.Shape), len(vals))
		}
		for _, v := range vals {
			switch {
			case io.DType == inference.Int32:
				out = binary.LittleEndian.AppendUint32(out, uint32(int32(v)))
			case io.ONNXType == "float" || io.ONNXType == "double" || io.ONNXType == "float16":
				q := quantizeValue(float64(float32(v)), io.Scale, int64(io.ZeroPoint), io.DType.Min(), io.DType.Max())
				out = append(out, byte(int8(q)))
			default:
				q := int64(v) + int64(io.Offset)
				if q < io.DType.Min() || q > io.DType.Max() {
					return nil, fmt.Errorf("input %q: %v is outside its type", io.Name, v)
				}
				out = append(out, byte(int8(q)))
			}
		}
	}
	return out, nil
}

// DecodeOutput splits the converted model's output bytes into per-output
// integers (the engine's values) and real values (scale·(q − zero point);
// the integers themselves for index outputs).
func (r *Report) DecodeOutput(b []byte) (ints [][]int64, reals [][]float64, err error) {
	off := 0
	for _, io := range r.Outputs {
		n := product(io.Shape)
		size := io.DType.Size()
		if off+n*size > len(b) {
			return nil, nil, fmt.Errorf("output is %d bytes; the model writes more", len(b))
		}
		qs := make([]int64, n)
		rs := make([]float64, n)
		for k := range qs {
			qs[k] = inference.Load(b[off:], io.DType, k)
			if io.Scale > 0 {
				rs[k] = io.Scale * float64(qs[k]-int64(io.ZeroPoint))
			} else {
				rs[k] = float64(qs[k])
			}
		}
		off += n * size
		ints, reals = append(ints, qs), append(reals, rs)
	}
	if off != len(b) {
		return nil, nil, fmt.Errorf("output is %d bytes; the model writes %d", len(b), off)
	}
	return ints, reals, nil
}

// evalInputs turns a sample into evaluator inputs.
func evalInputs(m *onnxpb.ModelProto, s Sample) (map[string]*Tensor, error) {
	ins := graphInputs(m)
	if len(s.Inputs) != len(ins) {
		return nil, fmt.Errorf("sample has %d inputs, the model %d", len(s.Inputs), len(ins))
	}
	out := map[string]*Tensor{}
	for i, vi := range ins {
		tt := vi.GetType().GetTensorType()
		if tt == nil || tt.Shape == nil {
			return nil, fmt.Errorf("input %q has no tensor type", vi.Name)
		}
		shape := make([]int, len(tt.Shape.Dim))
		for k, d := range tt.Shape.Dim {
			shape[k] = int(d.GetDimValue())
			if shape[k] < 1 {
				shape[k] = 1
			}
		}
		elem := onnxpb.TensorProto_DataType(tt.ElemType)
		t := newTensor(elem, shape)
		if len(s.Inputs[i]) != len(t.Data) {
			return nil, fmt.Errorf("input %q takes %d values, the sample has %d", vi.Name, len(t.Data), len(s.Inputs[i]))
		}
		for k, v := range s.Inputs[i] {
			if elem == onnxpb.TensorProto_FLOAT {
				v = float64(float32(v))
			}
			t.Data[k] = v
		}
		out[vi.Name] = t
	}
	return out, nil
}

// RandomSamples draws n deterministic samples over the inputs' declared
// ranges: every representable quantized value of a float input with its
// quantization (so quantizing the input loses nothing), any int8/uint8
// value, and indices within the table they index.
func RandomSamples(m *onnxpb.ModelProto, r *Report, n int, seed uint64) []Sample {
	rng := rand.New(rand.NewPCG(seed, 0x9e3779b97f4a7c15))
	ins := graphInputs(m)
	byPos := map[int]IOReport{}
	for _, io := range r.Inputs {
		byPos[io.position] = io
	}
	out := make([]Sample, n)
	for s := range out {
		out[s].Label = -1
		for i, vi := range ins {
			io, used := byPos[i]
			cnt := 1
			if tt := vi.GetType().GetTensorType(); tt != nil && tt.Shape != nil {
				for _, d := range tt.Shape.Dim {
					cnt *= max(1, int(d.GetDimValue()))
				}
			}
			vals := make([]float64, cnt)
			if used {
				for k := range vals {
					switch {
					case io.DType == inference.Int32:
						vals[k] = float64(rng.IntN(indexBound(m, vi.Name)))
					case io.Scale > 0 && (io.ONNXType == "float" || io.ONNXType == "double"):
						vals[k] = io.Scale * float64(rng.IntN(256)-128-int(io.ZeroPoint))
					default:
						vals[k] = float64(rng.IntN(256) - 128 - int(io.Offset))
					}
				}
			}
			out[s].Inputs = append(out[s].Inputs, vals)
		}
	}
	return out
}

// indexBound is the number of rows the input indexes (1 if unknown).
func indexBound(m *onnxpb.ModelProto, name string) int {
	shapes := map[string][]int64{}
	for _, t := range m.Graph.Initializer {
		shapes[t.Name] = t.Dims
	}
	for _, n := range m.Graph.Node {
		if n.OpType == "Gather" && len(n.Input) == 2 && n.Input[1] == name {
			if d, ok := shapes[n.Input[0]]; ok && len(d) > 0 {
				return int(d[0])
			}
			// Through a DequantizeLinear of an initializer.
			for _, p := range m.Graph.Node {
				if len(p.Output) > 0 && p.Output[0] == n.Input[0] && len(p.Input) > 0 {
					if d, ok := shapes[p.Input[0]]; ok && len(d) > 0 {
						return int(d[0])
					}
				}
			}
		}
	}
	return 1
}

// argmaxRows returns the argmax of each row of the last axis.
func argmaxRows(v []float64, shape []int) []int {
	if len(shape) == 0 {
		return nil
	}
	n := shape[len(shape)-1]
	if n < 2 {
		return nil
	}
	var out []int
	for r := 0; r+n <= len(v); r += n {
		best := 0
		for j := 1; j < n; j++ {
			if v[r+j] > v[r+best] {
				best = j
			}
		}
		out = append(out, best)
	}
	return out
}

// CompareOptions configures Compare.
type CompareOptions struct {
	// Float is the float model to compare with; nil uses the QDQ model
	// itself with QuantizeLinear/DequantizeLinear of activations passed
	// through (not possible for every QOperator model).
	Float   *onnxpb.ModelProto
	Backend inference.Backend
	// NoFloat skips the float reference (only ONNX semantics are compared).
	NoFloat bool
}

// isQDQ: the model quantizes with QuantizeLinear/DequantizeLinear only, so
// passing those through gives the float model back. QOperator models fold
// activations such as ReLU into their integer ranges; their float
// reference must be given.
func isQDQ(m *onnxpb.ModelProto) bool {
	for _, n := range m.Graph.Node {
		if op := opName(n); quantizedOps[op] && op != "QuantizeLinear" && op != "DequantizeLinear" {
			return false
		}
	}
	return true
}

// Compare runs the converted model and the ONNX model on samples and
// measures how far apart they are.
func Compare(res *Result, m *onnxpb.ModelProto, samples []Sample, opts CompareOptions) (*Gap, error) {
	b := opts.Backend
	prog, err := b.Prepare(res.Model)
	if err != nil {
		return nil, err
	}
	exact, err := NewEvaluator(m)
	if err != nil {
		return nil, err
	}
	var ref *Evaluator
	gap := &Gap{Samples: len(samples), Backend: b.Name()}
	switch {
	case opts.NoFloat:
	case opts.Float != nil:
		if ref, err = NewEvaluator(opts.Float); err != nil {
			return nil, fmt.Errorf("float model: %w", err)
		}
		gap.FloatRef = "the float model"
	case isQDQ(m):
		if ref, err = NewEvaluator(m); err != nil {
			return nil, err
		}
		ref.Float = true
		gap.FloatRef = "the model with activations unquantized (Q/DQ passed through; weights as quantized)"
	}
	rep := res.Report
	var sumAbs float64
	var nAbs int
	for _, s := range samples {
		in, err := rep.EncodeInput(s)
		if err != nil {
			return nil, err
		}
		out, err := prog.Run(in)
		if err != nil {
			return nil, err
		}
		ints, reals, err := rep.DecodeOutput(out)
		if err != nil {
			return nil, err
		}
		ev, err := evalInputs(m, s)
		if err != nil {
			return nil, err
		}
		want, err := exact.Run(ev)
		if err != nil {
			return nil, err
		}
		for o, io := range rep.Outputs {
			w := want[o]
			for k, q := range ints[o] {
				var wq int64
				switch {
				case w.isFloat() && io.Scale > 0:
					wq = int64(math.RoundToEven(w.Data[k]/io.Scale)) + int64(io.ZeroPoint)
				default:
					wq = int64(w.Data[k]) + int64(io.Offset)
				}
				gap.Elements++
				if d := abs64(q - wq); d != 0 {
					gap.Differing++
					gap.MaxStepDiff = max(gap.MaxStepDiff, d)
				}
			}
		}
		first := rep.Outputs[0]
		engArg := argmaxRows(reals[0], first.Shape)
		onnxVals := want[0].Data
		onnxArg := argmaxRows(onnxVals, first.Shape)
		for i := range engArg {
			if i < len(onnxArg) && engArg[i] == onnxArg[i] {
				gap.ONNXArgAgree++
			}
		}
		var refArg []int
		if ref != nil {
			rev := ev
			if opts.Float != nil {
				if rev, err = evalInputs(opts.Float, s); err != nil {
					return nil, err
				}
			}
			got, err := ref.Run(rev)
			if err != nil {
				gap.FloatRef = ""
				ref = nil
			} else {
				fv := got[0].Data
				for k := range reals[0] {
					if k < len(fv) {
						d := math.Abs(reals[0][k] - fv[k])
						gap.MaxAbsDiff = math.Max(gap.MaxAbsDiff, d)
						sumAbs += d
						nAbs++
					}
				}
				refArg = argmaxRows(fv, first.Shape)
				for i := range engArg {
					gap.ArgRows++
					if i < len(refArg) && engArg[i] == refArg[i] {
						gap.ArgAgree++
					}
				}
			}
		}
		if s.Label >= 0 && len(engArg) == 1 {
			gap.Labeled++
			if engArg[0] == s.Label {
				gap.EngineCorrect++
			}
			if len(onnxArg) == 1 && onnxArg[0] == s.Label {
				gap.ONNXCorrect++
			}
			if len(refArg) == 1 && refArg[0] == s.Label {
				gap.FloatCorrect++
			}
		}
	}
	if nAbs > 0 {
		gap.MeanAbsDiff = sumAbs / float64(nAbs)
	}
	return gap, nil
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
