package onnx

import (
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Shape ops of the evaluator: broadcasting, Transpose, Reshape,
// Squeeze/Unsqueeze, Concat, Gather, Slice.

func strides(shape []int) []int {
	s := make([]int, len(shape))
	acc := 1
	for i := len(shape) - 1; i >= 0; i-- {
		s[i] = acc
		acc *= shape[i]
	}
	return s
}

// expand broadcasts x to shape.
func expand(x *Tensor, shape []int) (*Tensor, error) {
	out := newTensor(x.Elem, shape)
	r := len(shape)
	xs := strides(x.Shape)
	idx := make([]int, r)
	for o := range out.Data {
		src := 0
		for d := 0; d < r; d++ {
			j := d - (r - len(x.Shape))
			if j >= 0 && x.Shape[j] != 1 {
				src += idx[d] * xs[j]
			}
		}
		out.Data[o] = x.Data[src]
		nextIndex(idx, shape)
	}
	return out, nil
}

func broadcast(n *onnxpb.NodeProto, a, b *Tensor, f func(p, q float64) float64) (*Tensor, error) {
	shape := inference.BroadcastShape(a.Shape, b.Shape)
	if shape == nil {
		return nil, evalErr(n, "shapes %v and %v do not broadcast", a.Shape, b.Shape)
	}
	ae, _ := expand(a, shape)
	be, _ := expand(b, shape)
	out := newTensor(a.Elem, shape)
	for k := range out.Data {
		out.Data[k] = f(ae.Data[k], be.Data[k])
	}
	return out, nil
}

func transpose(x *Tensor, p []int) *Tensor {
	shape := make([]int, len(p))
	for i, a := range p {
		shape[i] = x.Shape[a]
	}
	out := newTensor(x.Elem, shape)
	xs := strides(x.Shape)
	idx := make([]int, len(p))
	for o := range out.Data {
		src := 0
		for i, a := range p {
			src += idx[i] * xs[a]
		}
		out.Data[o] = x.Data[src]
		nextIndex(idx, shape)
	}
	return out
}

func reshape(n *onnxpb.NodeProto, a attrs, x, spec *Tensor) (*Tensor, error) {
	out := make([]int, len(spec.Data))
	infer, known := -1, 1
	for i, v := range spec.Data {
		d := int(v)
		switch {
		case d == 0 && a.int("allowzero", 0) == 0:
			if i >= len(x.Shape) {
				return nil, evalErr(n, "shape %v", spec.Data)
			}
			d = x.Shape[i]
		case d == -1:
			infer = i
			continue
		case d < 0:
			return nil, evalErr(n, "shape %v", spec.Data)
		}
		out[i] = d
		known *= d
	}
	if infer >= 0 {
		if known == 0 {
			return nil, evalErr(n, "shape %v", spec.Data)
		}
		out[infer] = len(x.Data) / known
	}
	if product(out) != len(x.Data) {
		return nil, evalErr(n, "cannot reshape %v to %v", x.Shape, out)
	}
	return &Tensor{Elem: x.Elem, Shape: out, Data: x.Data}, nil
}

func squeeze(n *onnxpb.NodeProto, a attrs, in []*Tensor, unsqueeze bool) (*Tensor, error) {
	x := in[0]
	var axes []int64
	if len(in) > 1 && in[1] != nil {
		axes = toInt64(in[1].Data)
	} else {
		axes = a.ints("axes")
	}
	if unsqueeze {
		r := len(x.Shape) + len(axes)
		ins := make([]bool, r)
		for _, ax := range axes {
			i, ok := normAxis(ax, r)
			if !ok {
				return nil, evalErr(n, "axis %d", ax)
			}
			ins[i] = true
		}
		shape := make([]int, 0, r)
		k := 0
		for i := 0; i < r; i++ {
			if ins[i] {
				shape = append(shape, 1)
			} else {
				shape = append(shape, x.Shape[k])
				k++
			}
		}
		return &Tensor{Elem: x.Elem, Shape: shape, Data: x.Data}, nil
	}
	drop := make([]bool, len(x.Shape))
	for _, ax := range axes {
		i, ok := normAxis(ax, len(x.Shape))
		if !ok {
			return nil, evalErr(n, "axis %d", ax)
		}
		drop[i] = true
	}
	shape := []int{}
	for i, d := range x.Shape {
		if drop[i] || (len(axes) == 0 && d == 1) {
			continue
		}
		shape = append(shape, d)
	}
	return &Tensor{Elem: x.Elem, Shape: shape, Data: x.Data}, nil
}

func concat(n *onnxpb.NodeProto, parts []*Tensor, axis64 int64) (*Tensor, error) {
	r := len(parts[0].Shape)
	axis, ok := normAxis(axis64, r)
	if !ok {
		return nil, evalErr(n, "axis %d", axis64)
	}
	shape := slices.Clone(parts[0].Shape)
	shape[axis] = 0
	for _, p := range parts {
		if len(p.Shape) != r {
			return nil, evalErr(n, "ranks differ")
		}
		shape[axis] += p.Shape[axis]
	}
	out := newTensor(parts[0].Elem, shape)
	outer := product(shape[:axis])
	o := 0
	for i := 0; i < outer; i++ {
		for _, p := range parts {
			chunk := product(p.Shape[axis:])
			o += copy(out.Data[o:], p.Data[i*chunk:(i+1)*chunk])
		}
	}
	return out, nil
}

func gather(n *onnxpb.NodeProto, data, idx *Tensor, axis64 int64) (*Tensor, error) {
	axis, ok := normAxis(axis64, len(data.Shape))
	if !ok {
		return nil, evalErr(n, "axis %d", axis64)
	}
	shape := append(append(slices.Clone(data.Shape[:axis]), idx.Shape...), data.Shape[axis+1:]...)
	out := newTensor(data.Elem, shape)
	outer := product(data.Shape[:axis])
	inner := product(data.Shape[axis+1:])
	rows := data.Shape[axis]
	o := 0
	for i := 0; i < outer; i++ {
		for _, v := range idx.Data {
			j := int(v)
			if j < 0 {
				j += rows
			}
			if j < 0 || j >= rows {
				return nil, evalErr(n, "index %v out of range", v)
			}
			o += copy(out.Data[o:], data.Data[(i*rows+j)*inner:(i*rows+j+1)*inner])
		}
	}
	return out, nil
}

func slice(n *onnxpb.NodeProto, in []*Tensor) (*Tensor, error) {
	x := in[0]
	r := len(x.Shape)
	starts, ends := toInt64(in[1].Data), toInt64(in[2].Data)
	axes := make([]int64, len(starts))
	for i := range axes {
		axes[i] = int64(i)
	}
	if len(in) > 3 && in[3] != nil {
		axes = toInt64(in[3].Data)
	}
	steps := make([]int64, len(starts))
	for i := range steps {
		steps[i] = 1
	}
	if len(in) > 4 && in[4] != nil {
		steps = toInt64(in[4].Data)
	}
	lo, hi, st := make([]int, r), slices.Clone(x.Shape), make([]int, r)
	for i := range st {
		st[i] = 1
	}
	for i, ax := range axes {
		d, ok := normAxis(ax, r)
		if !ok || steps[i] != 1 {
			return nil, evalErr(n, "only unit-step slices are folded")
		}
		dim := int64(x.Shape[d])
		s, e := starts[i], ends[i]
		if s < 0 {
			s += dim
		}
		if e < 0 {
			e += dim
		}
		s, e = max(0, min(s, dim)), max(0, min(e, dim))
		lo[d], hi[d] = int(s), int(max(s, e))
	}
	shape := make([]int, r)
	for d := range shape {
		shape[d] = hi[d] - lo[d]
	}
	out := newTensor(x.Elem, shape)
	xs := strides(x.Shape)
	idx := make([]int, r)
	for o := range out.Data {
		src := 0
		for d := 0; d < r; d++ {
			src += (idx[d] + lo[d]) * xs[d]
		}
		out.Data[o] = x.Data[src]
		nextIndex(idx, shape)
	}
	return out, nil
}
