package onnx

import (
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// kind says what an ONNX value is to the importer.
type kind int

const (
	// kQuant: an integer ONNX tensor holding quantized values (the output
	// of QuantizeLinear or a QLinear op, or an int8/uint8 graph input).
	kQuant kind = iota
	// kDeq: a float ONNX tensor that is DequantizeLinear of a quantized one.
	kDeq
	// kInt: an int32/int64 ONNX tensor held as engine int32 (indices, ArgMax).
	kInt
	// kConst: a constant (initializer, Constant node, or folded).
	kConst
	// kDeqConst: DequantizeLinear of a constant: quantized weights or bias.
	kDeqConst
	// kPending: the float result of an op, waiting for a QuantizeLinear to
	// say how to requantize it.
	kPending
	// kFloatInput: a float graph input, waiting for its QuantizeLinear.
	kFloatInput
)

// value is one ONNX value (a node output, initializer or graph input).
type value struct {
	kind kind
	q    *qtensor    // kQuant, kDeq, kInt
	c    *tensorData // kConst
	dc   *deqConst   // kDeqConst
	p    *pending    // kPending
	in   *floatInput // kFloatInput
}

func (v *value) shape() []int {
	switch v.kind {
	case kConst:
		return v.c.shape
	case kDeqConst:
		return v.dc.q.shape
	case kPending:
		return v.p.shape
	case kFloatInput:
		return v.in.shape
	}
	return v.q.shape
}

// deqConst is DequantizeLinear(q, scales, zps) of a constant along axis.
type deqConst struct {
	q      *tensorData
	scales []float64 // one (per tensor) or shape[axis]
	zps    []int64
	axis   int
}

// param returns the scale and zero point that apply to element k.
func (d *deqConst) param(k int) (float64, int64) {
	if len(d.scales) == 1 {
		return d.scales[0], d.zps[0]
	}
	inner := 1
	for _, s := range d.q.shape[d.axis+1:] {
		inner *= s
	}
	c := (k / inner) % d.q.shape[d.axis]
	return d.scales[c], d.zps[c]
}

func (d *deqConst) real(k int) float64 {
	s, z := d.param(k)
	return s * float64(d.q.i[k]-z)
}

func (d *deqConst) reals() []float64 {
	out := make([]float64, d.q.elements())
	for k := range out {
		out[k] = d.real(k)
	}
	return out
}

// floatInput is a float graph input; its QuantizeLinear makes it an engine input.
type floatInput struct {
	name  string
	pos   int // its position among the ONNX graph inputs
	shape []int
	q     *qtensor // once quantized
}

// pending is a float op result that needs its output quantization before
// the engine node can be written. emit writes it for output quantization y
// and integer bounds [qmin, qmax] (which include any fused Relu/Clip).
type pending struct {
	origin string
	key    string // the report key of the ONNX node it came from
	shape  []int
	lo, hi float64 // real bounds of a fused Relu/Clip
	dense  *denseOp
	emit   func(y qparams, qmin, qmax int32) (*qtensor, error)
	// passthrough, when set, quantizes the result like its input: ops such
	// as pooling that may be read without a QuantizeLinear after them.
	passthrough *qparams
	// rawAcc: the ONNX value is MatMulInteger/ConvInteger's int32 accumulator.
	rawAcc bool
}

func newPending(origin string, shape []int, emit func(y qparams, qmin, qmax int32) (*qtensor, error)) *pending {
	return &pending{origin: origin, shape: append([]int{}, shape...), lo: math.Inf(-1), hi: math.Inf(1), emit: emit}
}

// errorf wraps ErrUnsupported with the ONNX node's description.
func unsupported(origin, format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s", ErrUnsupported, origin, fmt.Sprintf(format, args...))
}

func describe(n *onnxpb.NodeProto) string {
	op := n.OpType
	if n.Domain != "" && n.Domain != "ai.onnx" {
		op = n.Domain + "." + op
	}
	if n.Name == "" {
		if len(n.Output) > 0 {
			return fmt.Sprintf("%s (output %q)", op, n.Output[0])
		}
		return op
	}
	return fmt.Sprintf("%s %q", op, n.Name)
}

// engineType maps an ONNX quantized element type to the engine's.
func engineType(e onnxpb.TensorProto_DataType) (inference.DType, int64, bool) {
	switch e {
	case onnxpb.TensorProto_INT8:
		return inference.Int8, 0, true
	case onnxpb.TensorProto_UINT8:
		return inference.Int8, 128, true
	}
	return 0, 0, false
}
