package onnx

import (
	"math"

	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// The evaluator's quantization: QuantizeLinear and DequantizeLinear
// exactly as ONNX specifies them (round half to even, saturate).

// quantParams reads a (scale, zero point) pair, per tensor or along axis.
type qp struct {
	scale []float64
	zp    []float64
	elem  onnxpb.TensorProto_DataType
	axis  int
}

func readQP(scale, zp *Tensor, axis int64, rank int, def onnxpb.TensorProto_DataType) qp {
	p := qp{scale: scale.Data, elem: def}
	if zp != nil {
		p.zp, p.elem = zp.Data, zp.Elem
	} else {
		p.zp = make([]float64, len(scale.Data))
	}
	if axis < 0 {
		axis += int64(rank)
	}
	p.axis = int(axis)
	return p
}

func (p qp) at(shape []int, k int) (float64, float64) {
	if len(p.scale) == 1 {
		return p.scale[0], p.zp[0]
	}
	c := channelOf(shape, p.axis, k)
	return p.scale[c], p.zp[c]
}

func typeRange(e onnxpb.TensorProto_DataType) (float64, float64) {
	switch e {
	case onnxpb.TensorProto_UINT8:
		return 0, 255
	case onnxpb.TensorProto_INT8:
		return -128, 127
	case onnxpb.TensorProto_UINT16:
		return 0, 65535
	case onnxpb.TensorProto_INT16:
		return -32768, 32767
	case onnxpb.TensorProto_INT32:
		return math.MinInt32, math.MaxInt32
	}
	return math.Inf(-1), math.Inf(1)
}

// quantize is QuantizeLinear; in float mode it passes x through.
func quantize(x *Tensor, p qp, float bool) *Tensor {
	if float {
		return x
	}
	lo, hi := typeRange(p.elem)
	out := newTensor(p.elem, x.Shape)
	for k, v := range x.Data {
		s, z := p.at(x.Shape, k)
		out.Data[k] = math.Max(lo, math.Min(hi, math.RoundToEven(v/s)+z))
	}
	return out
}

// dequantize is DequantizeLinear; a float input (float mode) passes through.
func dequantize(x *Tensor, p qp) *Tensor {
	if x.isFloat() {
		return x
	}
	out := newTensor(onnxpb.TensorProto_FLOAT, x.Shape)
	for k, v := range x.Data {
		s, z := p.at(x.Shape, k)
		out.Data[k] = (v - z) * s
	}
	return out
}

func scalarQP(s, z *Tensor) qp {
	def := onnxpb.TensorProto_UINT8
	return readQP(s, z, 1, 1, def)
}

// outQP is a QLinear op's output quantization: its zero point's type, or
// the input's when the zero point is absent.
func outQP(s, z *Tensor, in onnxpb.TensorProto_DataType) qp {
	p := scalarQP(s, z)
	if z == nil {
		p.elem = in
	}
	return p
}
