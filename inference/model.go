package inference

import (
	"fmt"
)

// Model is a decoded model: a graph of nodes over tensors. A Model returned
// by Decode is canonical and validated; its fields must not be modified.
type Model struct {
	Tensors   []Tensor
	Nodes     []Node
	Inputs    []int // tensor indices, in the order their bytes appear in the call's input
	Outputs   []int // tensor indices, in the order their bytes appear in the output
	Freshness []Freshness

	cost *Cost // set by Validate
}

// TensorKind says where a tensor's values come from.
type TensorKind uint8

const (
	// Activation tensors are graph inputs or node outputs.
	Activation TensorKind = 0
	// Constant tensors carry their values in the model (weights, tables).
	Constant TensorKind = 1
)

func (k TensorKind) String() string {
	switch k {
	case Activation:
		return "activation"
	case Constant:
		return "constant"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Tensor describes one tensor of the graph.
type Tensor struct {
	Kind  TensorKind
	DType DType
	// Shape has Rank entries, each at least 1. A rank-0 tensor is a scalar.
	Shape []int
	// ZeroPoint is the integer that represents real zero. Within the dtype's
	// range; always 0 for int32.
	ZeroPoint int32
	// Data holds a constant's elements, little-endian, exactly
	// Elements()*DType.Size() bytes. Nil for activations.
	Data []byte
}

// Elements is the product of the shape (1 for a scalar).
func (t *Tensor) Elements() int {
	n := 1
	for _, d := range t.Shape {
		n *= d
	}
	return n
}

// Bytes is the size of the tensor's values.
func (t *Tensor) Bytes() int { return t.Elements() * t.DType.Size() }

// Freshness is a model-declared requirement on one input element: a call
// must prove the element was observed at most MaxAge seconds before the
// block's timestamp, by a stamp or by a price feed (PRECOMPILE.md).
type Freshness struct {
	// Element is the flat index of the element across the concatenated
	// graph inputs, in input order.
	Element uint32 `json:"element"`
	// MaxAge is the largest allowed age in seconds.
	MaxAge uint64 `json:"maxAge"`
	// FeedMultiplier and FeedShift quantize a price feed's answer a into
	// this element: q = clamp(zp + roundShift(a*FeedMultiplier, FeedShift)).
	// FeedMultiplier 0 means the element cannot be fed by a price feed.
	FeedMultiplier int32  `json:"feedMultiplier"`
	FeedShift      uint32 `json:"feedShift"`
}

// Node is one operation: it reads Inputs and writes the activation Output.
type Node struct {
	Op     Op
	Inputs []int
	Output int
	Attrs  Attrs
}

// Op identifies an operation of op set v1.
type Op uint16

const (
	OpFullyConnected  Op = 1
	OpConv2D          Op = 2
	OpDepthwiseConv2D Op = 3
	OpMatMul          Op = 4
	OpAdd             Op = 5
	OpMul             Op = 6
	OpRequantize      Op = 7
	OpLookup          Op = 8
	OpClamp           Op = 9
	OpMaxPool2D       Op = 10
	OpAvgPool2D       Op = 11
	OpMean            Op = 12
	OpReshape         Op = 13
	OpTranspose       Op = 14
	OpConcat          Op = 15
	OpGather          Op = 16
	OpArgMax          Op = 17
	OpSoftmax         Op = 18
	OpLayerNorm       Op = 19
	OpRMSNorm         Op = 20
)

// opInfo is the fixed shape of an op's node record.
type opInfo struct {
	name string
	// inputs is the operand count; 0 means variable (Concat: 2..MaxConcatInputs).
	inputs int
	// inputNames label the operands in tooling.
	inputNames []string
	// newAttrs returns the op's zero attribute struct.
	newAttrs func() Attrs
}

var ops = map[Op]opInfo{
	OpFullyConnected:  {"FullyConnected", 5, []string{"x", "weights", "bias", "multiplier", "shift"}, func() Attrs { return &FullyConnectedAttrs{} }},
	OpConv2D:          {"Conv2D", 5, []string{"x", "weights", "bias", "multiplier", "shift"}, func() Attrs { return &Conv2DAttrs{} }},
	OpDepthwiseConv2D: {"DepthwiseConv2D", 5, []string{"x", "weights", "bias", "multiplier", "shift"}, func() Attrs { return &DepthwiseConv2DAttrs{} }},
	OpMatMul:          {"MatMul", 2, []string{"a", "b"}, func() Attrs { return &MatMulAttrs{} }},
	OpAdd:             {"Add", 2, []string{"a", "b"}, func() Attrs { return &AddAttrs{} }},
	OpMul:             {"Mul", 2, []string{"a", "b"}, func() Attrs { return &MulAttrs{} }},
	OpRequantize:      {"Requantize", 1, []string{"x"}, func() Attrs { return &RequantizeAttrs{} }},
	OpLookup:          {"Lookup", 2, []string{"x", "table"}, func() Attrs { return &NoAttrs{} }},
	OpClamp:           {"Clamp", 1, []string{"x"}, func() Attrs { return &ClampAttrs{} }},
	OpMaxPool2D:       {"MaxPool2D", 1, []string{"x"}, func() Attrs { return &Pool2DAttrs{} }},
	OpAvgPool2D:       {"AvgPool2D", 1, []string{"x"}, func() Attrs { return &Pool2DAttrs{} }},
	OpMean:            {"Mean", 1, []string{"x"}, func() Attrs { return &MeanAttrs{} }},
	OpReshape:         {"Reshape", 1, []string{"x"}, func() Attrs { return &NoAttrs{} }},
	OpTranspose:       {"Transpose", 1, []string{"x"}, func() Attrs { return &TransposeAttrs{} }},
	OpConcat:          {"Concat", 0, nil, func() Attrs { return &ConcatAttrs{} }},
	OpGather:          {"Gather", 2, []string{"data", "indices"}, func() Attrs { return &NoAttrs{} }},
	OpArgMax:          {"ArgMax", 1, []string{"x"}, func() Attrs { return &ArgMaxAttrs{} }},
	OpSoftmax:         {"Softmax", 2, []string{"x", "expTable"}, func() Attrs { return &SoftmaxAttrs{} }},
	OpLayerNorm:       {"LayerNorm", 3, []string{"x", "gamma", "beta"}, func() Attrs { return &NormAttrs{} }},
	OpRMSNorm:         {"RMSNorm", 3, []string{"x", "gamma", "beta"}, func() Attrs { return &NormAttrs{} }},
}

// String is the op's name in the spec.
func (o Op) String() string {
	if info, ok := ops[o]; ok {
		return info.name
	}
	return fmt.Sprintf("op(%d)", uint16(o))
}

// Ops lists op set v1 in opcode order.
func Ops() []Op {
	out := make([]Op, 0, len(ops))
	for o := OpFullyConnected; o <= OpRMSNorm; o++ {
		out = append(out, o)
	}
	return out
}

// OpByName finds an op by its spec name.
func OpByName(name string) (Op, bool) {
	for o, info := range ops {
		if info.name == name {
			return o, true
		}
	}
	return 0, false
}

// NewAttrs returns the zero attribute struct of op, or nil for an unknown op.
func NewAttrs(op Op) Attrs {
	info, ok := ops[op]
	if !ok {
		return nil
	}
	return info.newAttrs()
}

// Attrs is an op's fixed attribute struct. In the binary format it is a
// sequence of little-endian words, one per int32/uint32 field and two per
// uint64 field, in field order.
type Attrs interface {
	// fields returns pointers to the struct's fields in encoding order:
	// *int32, *uint32 or *uint64.
	fields() []any
}

// attrWords is the encoded size of attrs in 32-bit words.
func attrWords(a Attrs) int {
	n := 0
	for _, f := range a.fields() {
		if _, ok := f.(*uint64); ok {
			n += 2
		} else {
			n++
		}
	}
	return n
}

// NoAttrs is the attribute struct of ops without attributes.
type NoAttrs struct{}

func (a *NoAttrs) fields() []any { return nil }

// FullyConnectedAttrs: y = clamp(zy + roundShift(Σ_k (x-zx)·w + bias, ...)).
type FullyConnectedAttrs struct {
	QMin int32 `json:"qmin"`
	QMax int32 `json:"qmax"`
}

func (a *FullyConnectedAttrs) fields() []any { return []any{&a.QMin, &a.QMax} }

// Conv2DAttrs configures an NHWC convolution with OHWI weights.
type Conv2DAttrs struct {
	StrideH   uint32 `json:"strideH"`
	StrideW   uint32 `json:"strideW"`
	DilationH uint32 `json:"dilationH"`
	DilationW uint32 `json:"dilationW"`
	PadTop    uint32 `json:"padTop"`
	PadLeft   uint32 `json:"padLeft"`
	PadBottom uint32 `json:"padBottom"`
	PadRight  uint32 `json:"padRight"`
	QMin      int32  `json:"qmin"`
	QMax      int32  `json:"qmax"`
}

func (a *Conv2DAttrs) fields() []any {
	return []any{&a.StrideH, &a.StrideW, &a.DilationH, &a.DilationW,
		&a.PadTop, &a.PadLeft, &a.PadBottom, &a.PadRight, &a.QMin, &a.QMax}
}

// DepthwiseConv2DAttrs configures an NHWC depthwise convolution with
// [KH, KW, C*DepthMultiplier] weights.
type DepthwiseConv2DAttrs struct {
	Conv2DAttrs
	DepthMultiplier uint32 `json:"depthMultiplier"`
}

func (a *DepthwiseConv2DAttrs) fields() []any {
	return append(a.Conv2DAttrs.fields(), &a.DepthMultiplier)
}

// MatMulAttrs: y = clamp(zy + roundShift(Σ_k (a-za)(b-zb) · Multiplier, Shift)).
type MatMulAttrs struct {
	TransposeB uint32 `json:"transposeB"`
	Multiplier int32  `json:"multiplier"`
	Shift      uint32 `json:"shift"`
	QMin       int32  `json:"qmin"`
	QMax       int32  `json:"qmax"`
}

func (a *MatMulAttrs) fields() []any {
	return []any{&a.TransposeB, &a.Multiplier, &a.Shift, &a.QMin, &a.QMax}
}

// AddAttrs: y = clamp(zy + roundShift((a-za)·MultiplierA + (b-zb)·MultiplierB, Shift)).
type AddAttrs struct {
	MultiplierA int32  `json:"multiplierA"`
	MultiplierB int32  `json:"multiplierB"`
	Shift       uint32 `json:"shift"`
	QMin        int32  `json:"qmin"`
	QMax        int32  `json:"qmax"`
}

func (a *AddAttrs) fields() []any {
	return []any{&a.MultiplierA, &a.MultiplierB, &a.Shift, &a.QMin, &a.QMax}
}

// MulAttrs: y = clamp(zy + roundShift((a-za)(b-zb)·Multiplier, Shift)).
type MulAttrs struct {
	Multiplier int32  `json:"multiplier"`
	Shift      uint32 `json:"shift"`
	QMin       int32  `json:"qmin"`
	QMax       int32  `json:"qmax"`
}

func (a *MulAttrs) fields() []any { return []any{&a.Multiplier, &a.Shift, &a.QMin, &a.QMax} }

// RequantizeAttrs: y = clamp(zy + roundShift((x-zx)·Multiplier, Shift)).
type RequantizeAttrs struct {
	Multiplier int32  `json:"multiplier"`
	Shift      uint32 `json:"shift"`
	QMin       int32  `json:"qmin"`
	QMax       int32  `json:"qmax"`
}

func (a *RequantizeAttrs) fields() []any { return []any{&a.Multiplier, &a.Shift, &a.QMin, &a.QMax} }

// ClampAttrs bounds values to [Min, Max] (ReLU and ReLU6 are clamps).
type ClampAttrs struct {
	Min int32 `json:"min"`
	Max int32 `json:"max"`
}

func (a *ClampAttrs) fields() []any { return []any{&a.Min, &a.Max} }

// Pool2DAttrs configures MaxPool2D and AvgPool2D over NHWC tensors.
type Pool2DAttrs struct {
	KernelH   uint32 `json:"kernelH"`
	KernelW   uint32 `json:"kernelW"`
	StrideH   uint32 `json:"strideH"`
	StrideW   uint32 `json:"strideW"`
	PadTop    uint32 `json:"padTop"`
	PadLeft   uint32 `json:"padLeft"`
	PadBottom uint32 `json:"padBottom"`
	PadRight  uint32 `json:"padRight"`
}

func (a *Pool2DAttrs) fields() []any {
	return []any{&a.KernelH, &a.KernelW, &a.StrideH, &a.StrideW,
		&a.PadTop, &a.PadLeft, &a.PadBottom, &a.PadRight}
}

// MeanAttrs reduces the axes whose bits are set in Axes.
type MeanAttrs struct {
	Axes     uint32 `json:"axes"`
	KeepDims uint32 `json:"keepDims"`
}

func (a *MeanAttrs) fields() []any { return []any{&a.Axes, &a.KeepDims} }

// TransposeAttrs permutes axes: output axis i is input axis Perm[i].
// Entries at and beyond the rank are 0.
type TransposeAttrs struct {
	Perm [6]uint32 `json:"perm"`
}

func (a *TransposeAttrs) fields() []any {
	out := make([]any, len(a.Perm))
	for i := range a.Perm {
		out[i] = &a.Perm[i]
	}
	return out
}

// ConcatAttrs joins its operands along Axis.
type ConcatAttrs struct {
	Axis uint32 `json:"axis"`
}

func (a *ConcatAttrs) fields() []any { return []any{&a.Axis} }

// ArgMaxAttrs finds the index of the largest value along Axis (ties: lowest).
type ArgMaxAttrs struct {
	Axis     uint32 `json:"axis"`
	KeepDims uint32 `json:"keepDims"`
}

func (a *ArgMaxAttrs) fields() []any { return []any{&a.Axis, &a.KeepDims} }

// SoftmaxAttrs: integer softmax over the last axis with a 256-entry exp table
// indexed by max-x: y = clamp(zy + divRound(e·OutputScale, Σe)).
type SoftmaxAttrs struct {
	OutputScale uint32 `json:"outputScale"`
	QMin        int32  `json:"qmin"`
	QMax        int32  `json:"qmax"`
}

func (a *SoftmaxAttrs) fields() []any { return []any{&a.OutputScale, &a.QMin, &a.QMax} }

// NormAttrs configures LayerNorm and RMSNorm over the last axis.
type NormAttrs struct {
	// FractionBits is the fixed-point precision of the normalised value.
	FractionBits uint32 `json:"fractionBits"`
	// Epsilon is added to the integer variance (in the units docs/spec.md gives).
	Epsilon uint64 `json:"epsilon"`
	Shift   uint32 `json:"shift"`
	QMin    int32  `json:"qmin"`
	QMax    int32  `json:"qmax"`
}

func (a *NormAttrs) fields() []any {
	return []any{&a.FractionBits, &a.Epsilon, &a.Shift, &a.QMin, &a.QMax}
}

// At returns element i of a constant tensor, sign-extended.
func (t *Tensor) At(i int) int64 {
	return Load(t.Data, t.DType, i)
}

// Load reads element i of little-endian values of type dt.
func Load(b []byte, dt DType, i int) int64 {
	switch dt {
	case Int8:
		return int64(int8(b[i]))
	case Int16:
		return int64(int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8))
	default:
		return int64(int32(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24))
	}
}

// Store writes v, which must lie in dt's range, as element i.
func Store(b []byte, dt DType, i int, v int64) {
	switch dt {
	case Int8:
		b[i] = byte(v)
	case Int16:
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	default:
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
}
