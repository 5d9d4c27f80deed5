package quantize

import (
	"errors"
	"fmt"
	"sort"

	"github.com/infergeth/infergeth/inference/onnx"
	ob "github.com/infergeth/infergeth/inference/onnx/onnxbuild"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"google.golang.org/protobuf/proto"
)

// Options tune a quantization.
type Options struct {
	// Method chooses activation ranges: MinMax (default) or Percentile.
	Method Method
	// Percentile is the share of values kept inside the range on each
	// tail for Percentile (default 99.99).
	Percentile float64
	// Activations is the ONNX type of quantized activations in the QDQ
	// model: "uint8" (default, as onnxruntime's quantize_static) or "int8".
	// The engine holds both as int8, exactly.
	Activations string
	// Dims fixes symbolic input dimensions by name; others become 1.
	Dims map[string]int
	// Progress, when set, is called after each calibration sample.
	Progress func(stage string, done, total int)
}

// ErrNoSamples: quantization needs calibration data.
var ErrNoSamples = errors.New("no calibration samples")

// Result is a quantized model: its QDQ ONNX form and its conversion to
// the canonical format.
type Result struct {
	// Float is the float model as prepared for quantization (static
	// shapes, constants folded, patterns rewritten): the accuracy
	// reference.
	Float *onnxpb.ModelProto
	// QDQ is the quantized ONNX model; QDQBytes its deterministic encoding.
	QDQ      *onnxpb.ModelProto
	QDQBytes []byte
	// Import is the canonical model converted from QDQ, with its report.
	Import *onnx.Result
	// Ranges are the calibrated activation ranges, by value name.
	Ranges []Range
	// Notes say what the preparation changed (fixed dimensions, folded
	// constants, rewritten patterns).
	Notes   []string
	Samples int
	Method  Method
}

func (o *Options) defaults() error {
	if o.Method == "" {
		o.Method = MinMax
	}
	if o.Method != MinMax && o.Method != Percentile {
		return fmt.Errorf("calibration method %q: want %s or %s", o.Method, MinMax, Percentile)
	}
	if o.Percentile == 0 {
		o.Percentile = 99.99
	}
	if !(o.Percentile >= 50 && o.Percentile <= 100) {
		return fmt.Errorf("percentile %g: want 50 to 100", o.Percentile)
	}
	if o.Activations == "" {
		o.Activations = "uint8"
	}
	if o.Activations != "uint8" && o.Activations != "int8" {
		return fmt.Errorf("activation type %q: want uint8 or int8", o.Activations)
	}
	return nil
}

// Quantize turns float model m into an int8 model, calibrated on samples
// (each a value per graph input, in graph order; see LoadSamples). The
// same model, samples and options give the same bytes on any machine.
func Quantize(m *onnxpb.ModelProto, samples []onnx.Sample, opts Options) (*Result, error) {
	if err := opts.defaults(); err != nil {
		return nil, err
	}
	if m == nil || m.Graph == nil || len(m.Graph.Node) == 0 {
		return nil, fmt.Errorf("%w: no graph, or a graph without nodes", onnx.ErrMalformed)
	}
	if len(samples) == 0 {
		return nil, ErrNoSamples
	}
	m = clone(m)
	opset, err := onnx.Opset(m)
	if err != nil {
		return nil, err
	}
	if opset < 13 {
		return nil, fmt.Errorf("%w: default-domain opset %d; the quantizer takes float models at opsets 13 to 21 (convert with onnx.version_converter)", onnx.ErrUnsupported, opset)
	}
	notes, err := fixDims(m, opts.Dims)
	if err != nil {
		return nil, err
	}
	if err := topoSort(m); err != nil {
		return nil, err
	}
	static := staticNodes(m)
	if err := checkOps(m, static); err != nil {
		return nil, err
	}
	// One evaluation gives the folded constants and every value's shape.
	ev, err := onnx.NewEvaluator(m)
	if err != nil {
		return nil, err
	}
	in, err := evalInputs(m, samples[0])
	if err != nil {
		return nil, fmt.Errorf("calibration sample 1: %w", err)
	}
	vals, err := ev.Values(in)
	if err != nil {
		return nil, err
	}
	folded, err := fold(m, static, vals)
	if err != nil {
		return nil, err
	}
	if folded > 0 {
		notes = append(notes, fmt.Sprintf("%d node(s) computing from constants and shapes only were folded into constants", folded))
	}
	rw, err := newRewriter(m, vals)
	if err != nil {
		return nil, err
	}
	if err := rw.layerNorms(); err != nil {
		return nil, err
	}
	rw.subtractions()
	notes = append(notes, rw.notes...)
	ix, err := newIndex(m)
	if err != nil {
		return nil, err
	}
	if err := checkNodes(ix); err != nil {
		return nil, err
	}
	// Calibrate every float activation: graph inputs and node outputs.
	var track []string
	for _, vi := range graphInputs(m) {
		track = append(track, vi.Name)
	}
	for _, n := range m.Graph.Node {
		if len(n.Output) > 0 && n.Output[0] != "" {
			if t := vals[n.Output[0]]; t == nil || t.Elem == onnxpb.TensorProto_FLOAT || t.Elem == onnxpb.TensorProto_DOUBLE {
				track = append(track, n.Output[0])
			}
		}
	}
	sort.Strings(track)
	ev, err = onnx.NewEvaluator(m)
	if err != nil {
		return nil, err
	}
	cal := &calibrator{ev: ev, m: m, track: track, progress: opts.Progress}
	ranges, err := cal.ranges(samples, opts.Method, opts.Percentile)
	if err != nil {
		return nil, err
	}
	typ := ob.Uint8
	if opts.Activations == "int8" {
		typ = ob.Int8
	}
	q, err := writeQDQ(m, ranges, typ)
	if err != nil {
		return nil, err
	}
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(q)
	if err != nil {
		return nil, err
	}
	res, err := onnx.ImportModel(q, onnx.Options{Dims: opts.Dims})
	if err != nil {
		return nil, fmt.Errorf("converting the quantized model: %w", err)
	}
	return &Result{Float: m, QDQ: q, QDQBytes: raw, Import: res, Ranges: sortedRanges(ranges), Notes: notes,
		Samples: len(samples), Method: opts.Method}, nil
}
