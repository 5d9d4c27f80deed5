package onnx

import (
	"math"
	"slices"

	"github.com/infergeth/infergeth/inference/onnx/detmath"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// ArgMax, Softmax and LayerNormalization of the evaluator.

func argmax(n *onnxpb.NodeProto, a attrs, x *Tensor) (*Tensor, error) {
	axis, ok := normAxis(a.int("axis", 0), len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	outer, inner, cnt := product(x.Shape[:axis]), product(x.Shape[axis+1:]), x.Shape[axis]
	var shape []int
	for i, d := range x.Shape {
		if i == axis {
			if a.int("keepdims", 1) != 0 {
				shape = append(shape, 1)
			}
			continue
		}
		shape = append(shape, d)
	}
	if shape == nil {
		shape = []int{}
	}
	out := newTensor(onnxpb.TensorProto_INT64, shape)
	last := a.int("select_last_index", 0) != 0
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			best, at := math.Inf(-1), 0
			for j := 0; j < cnt; j++ {
				v := x.Data[(o*cnt+j)*inner+i]
				if v > best || (last && v == best) || j == 0 {
					best, at = v, j
				}
			}
			out.Data[o*inner+i] = float64(at)
		}
	}
	return out, nil
}

func softmax(n *onnxpb.NodeProto, x *Tensor, axis64 int64) (*Tensor, error) {
	axis, ok := normAxis(axis64, len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	outer, inner, cnt := product(x.Shape[:axis]), product(x.Shape[axis+1:]), x.Shape[axis]
	out := newTensor(onnxpb.TensorProto_FLOAT, x.Shape)
	for o := 0; o < outer; o++ {
		for i := 0; i < inner; i++ {
			m := math.Inf(-1)
			for j := 0; j < cnt; j++ {
				m = math.Max(m, x.Data[(o*cnt+j)*inner+i])
			}
			s := 0.0
			for j := 0; j < cnt; j++ {
				s += detmath.Exp(x.Data[(o*cnt+j)*inner+i] - m)
			}
			for j := 0; j < cnt; j++ {
				out.Data[(o*cnt+j)*inner+i] = detmath.Exp(x.Data[(o*cnt+j)*inner+i]-m) / s
			}
		}
	}
	return out, nil
}

// softmaxFlattened is Softmax before opset 13: over all the axes from
// axis on, as one (the input coerced to 2-D).
func softmaxFlattened(n *onnxpb.NodeProto, x *Tensor, axis64 int64) (*Tensor, error) {
	axis, ok := normAxis(axis64, len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	flat := &Tensor{Elem: x.Elem, Shape: []int{product(x.Shape[:axis]), product(x.Shape[axis:])}, Data: x.Data}
	y, err := softmax(n, flat, 1)
	if err != nil {
		return nil, err
	}
	y.Shape = slices.Clone(x.Shape)
	return y, nil
}

func layerNorm(n *onnxpb.NodeProto, a attrs, x, gamma, beta *Tensor, rms bool) (*Tensor, error) {
	axis, ok := normAxis(a.int("axis", -1), len(x.Shape))
	if !ok {
		return nil, evalErr(n, "axis")
	}
	eps := a.float("epsilon", 1e-5)
	cnt := product(x.Shape[axis:])
	rows := product(x.Shape[:axis])
	out := newTensor(onnxpb.TensorProto_FLOAT, x.Shape)
	ge, _ := expand(gamma, x.Shape[axis:])
	var be *Tensor
	if beta != nil {
		be, _ = expand(beta, x.Shape[axis:])
	}
	for r := 0; r < rows; r++ {
		row := x.Data[r*cnt : (r+1)*cnt]
		mean := 0.0
		if !rms {
			for _, v := range row {
				mean += v
			}
			mean /= float64(cnt)
		}
		vr := 0.0
		for _, v := range row {
			vr += float64((v - mean) * (v - mean))
		}
		vr /= float64(cnt)
		for j, v := range row {
			y := float64((v - mean) / math.Sqrt(vr+eps) * ge.Data[j])
			if be != nil {
				y += be.Data[j]
			}
			out.Data[r*cnt+j] = y
		}
	}
	return out, nil
}
