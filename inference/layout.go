package inference

import (
	"fmt"
	"strings"
)

// TensorLayout is where one of a model's input or output tensors sits in a
// call's bytes: tensors are concatenated in the model's order, each
// little-endian, so a contract reads an output tensor at Offset (TensorCodec's
// ...AtByte functions). The format carries no real-valued scale: a tensor's
// quantization is its ZeroPoint (and the model's integer requantization).
type TensorLayout struct {
	Offset    int    `json:"offset"`
	Bytes     int    `json:"bytes"`
	DType     string `json:"dtype"`
	Shape     []int  `json:"shape"`
	ZeroPoint int32  `json:"zeroPoint"`
}

// InputLayout describes the input tensors in the order of the input bytes.
func (m *Model) InputLayout() []TensorLayout { return m.layout(m.Inputs) }

// OutputLayout describes the output tensors in the order of the output bytes.
func (m *Model) OutputLayout() []TensorLayout { return m.layout(m.Outputs) }

func (m *Model) layout(tensors []int) []TensorLayout {
	out := make([]TensorLayout, 0, len(tensors))
	off := 0
	for _, i := range tensors {
		t := &m.Tensors[i]
		shape := append([]int{}, t.Shape...)
		out = append(out, TensorLayout{Offset: off, Bytes: t.Bytes(), DType: t.DType.String(), Shape: shape, ZeroPoint: t.ZeroPoint})
		off += t.Bytes()
	}
	return out
}

// LayoutString writes a layout compactly, as the devnet prints it:
// "int8[1,10]@0 int32[1]@10" (dtype, shape, byte offset).
func LayoutString(l []TensorLayout) string {
	parts := make([]string, len(l))
	for i, t := range l {
		dims := make([]string, len(t.Shape))
		for j, d := range t.Shape {
			dims[j] = fmt.Sprint(d)
		}
		parts[i] = fmt.Sprintf("%s[%s]@%d", t.DType, strings.Join(dims, ","), t.Offset)
	}
	return strings.Join(parts, " ")
}
