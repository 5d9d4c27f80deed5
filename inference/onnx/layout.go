package onnx

import (
	"fmt"
	"slices"

	"github.com/infergeth/infergeth/inference"
)

// Layouts. ONNX images are NCHW; the engine's convolutions and pools are
// NHWC. The importer keeps every quantized ONNX value as a *view* of an
// engine tensor: the engine tensor's axes may be a permutation of the ONNX
// axes, and a reshape may be pending on top. Transpose, Reshape, Flatten,
// Squeeze and Unsqueeze only change the view; a Transpose node is emitted
// only when an op needs an axis order the data does not have, and none at
// all between consecutive convolutions, pools and elementwise ops. A
// Flatten of NHWC data feeding a fully connected layer is absorbed by
// permuting the layer's weight columns. The model's inputs and outputs keep
// the ONNX layout: callers pass and receive exactly what onnxruntime does.

// qtensor is one quantized ONNX value: a view of engine tensor t.
//
// Let T be t's data transposed so that T's axis i is t's axis perm[i]; the
// ONNX value is T reshaped to shape (row-major, the same elements).
type qtensor struct {
	t     int
	phys  []int // t's shape
	perm  []int // len(phys)
	shape []int // the ONNX (logical) shape
	q     qparams
}

func identity(n int) []int {
	p := make([]int, n)
	for i := range p {
		p[i] = i
	}
	return p
}

func isIdentity(p []int) bool {
	for i, v := range p {
		if v != i {
			return false
		}
	}
	return true
}

func inverse(p []int) []int {
	inv := make([]int, len(p))
	for i, v := range p {
		inv[v] = i
	}
	return inv
}

// tshape is the shape of T: phys permuted by perm.
func (x *qtensor) tshape() []int {
	s := make([]int, len(x.perm))
	for i, p := range x.perm {
		s[i] = x.phys[p]
	}
	return s
}

// pure: no reshape pending, so ONNX axis i is engine axis perm[i].
func (x *qtensor) pure() bool { return slices.Equal(x.tshape(), x.shape) }

// plain: the engine tensor is the ONNX value, as is.
func (x *qtensor) plain() bool { return isIdentity(x.perm) && slices.Equal(x.phys, x.shape) }

// withView returns a copy of x describing engine tensor t with x's view.
func (x *qtensor) withTensor(t int, q qparams) *qtensor {
	return &qtensor{t: t, phys: x.phys, perm: x.perm, shape: x.shape, q: q}
}

func (x *qtensor) withShape(shape []int) *qtensor {
	return &qtensor{t: x.t, phys: x.phys, perm: x.perm, shape: append([]int{}, shape...), q: x.q}
}

// onlyUnitAxesMove reports whether transposing shape by p keeps the
// non-unit axes in order, so the transpose is a reshape of the same bytes.
func onlyUnitAxesMove(shape, p []int) bool {
	last := -1
	for _, a := range p {
		if shape[a] == 1 {
			continue
		}
		if a < last {
			return false
		}
		last = a
	}
	return true
}

func key(parts ...any) string { return fmt.Sprint(parts...) }

// transposeTensor emits engine Transpose (or Reshape, when only unit axes
// move) of tensor t with shape phys: output axis j is input axis p[j].
func (im *importer) transposeTensor(origin string, x *qtensor, p []int) (int, []int) {
	out := make([]int, len(p))
	for j, a := range p {
		out[j] = x.phys[a]
	}
	if isIdentity(p) {
		return x.t, out
	}
	k := key("T", x.t, p)
	if t, ok := im.g.memo[k]; ok {
		return t, out
	}
	var t int
	if onlyUnitAxesMove(x.phys, p) {
		t = im.reshapeTensor(origin, x.t, x.phys, out, x.q)
	} else {
		var a inference.TransposeAttrs
		for j, v := range p {
			a.Perm[j] = uint32(v)
		}
		t = im.g.node(inference.OpTranspose, &a, x.q.dtype, x.q.zp, out, x.t)
	}
	im.g.memo[k] = t
	return t, out
}

// reshapeTensor emits engine Reshape of t to shape (nothing if equal).
func (im *importer) reshapeTensor(origin string, t int, from, shape []int, q qparams) int {
	if slices.Equal(from, shape) {
		return t
	}
	if src, ok := im.g.reshapedFrom[t]; ok {
		// A reshape of a reshape reads the original.
		t = src
		if slices.Equal(im.g.tensors[t].shape, shape) {
			return t
		}
	}
	k := key("R", t, shape)
	if r, ok := im.g.memo[k]; ok {
		return r
	}
	r := im.g.node(inference.OpReshape, &inference.NoAttrs{}, q.dtype, q.zp, shape, t)
	im.g.memo[k] = r
	im.g.reshapedFrom[r] = t
	return r
}

// arrange returns x as a pure view whose engine axis j holds ONNX axis
// order[j], emitting at most a Transpose and a Reshape.
func (im *importer) arrange(origin string, x *qtensor, order []int) *qtensor {
	if !x.pure() {
		x = im.logical(origin, x)
	}
	// engine axis j must hold ONNX axis order[j] = current engine axis perm[order[j]].
	p := make([]int, len(order))
	for j, a := range order {
		p[j] = x.perm[a]
	}
	t, phys := im.transposeTensor(origin, x, p)
	return &qtensor{t: t, phys: phys, perm: inverse(order), shape: x.shape, q: x.q}
}

// logical returns x as a plain tensor in ONNX layout.
func (im *importer) logical(origin string, x *qtensor) *qtensor {
	if x.plain() {
		return x
	}
	p := x.perm
	t, phys := x.t, x.phys
	if !onlyUnitAxesMove(x.phys, p) {
		t, phys = im.transposeTensor(origin, x, p)
	}
	t = im.reshapeTensor(origin, t, phys, x.shape, x.q)
	r := len(x.shape)
	return &qtensor{t: t, phys: append([]int{}, x.shape...), perm: identity(r), shape: x.shape, q: x.q}
}

// nhwc returns a rank-4 ONNX NCHW value as a pure view stored NHWC.
func (im *importer) nhwc(origin string, x *qtensor) *qtensor {
	return im.arrange(origin, x, []int{0, 2, 3, 1})
}

// sameView reports whether a and b view tensors the same way.
func sameView(a, b *qtensor) bool {
	return slices.Equal(a.phys, b.phys) && slices.Equal(a.perm, b.perm) && slices.Equal(a.shape, b.shape)
}

// engineOrder is x's layout as an arrange order: engine axis j holds ONNX axis order[j].
func engineOrder(x *qtensor) []int { return inverse(x.perm) }

// reduceView describes reducing the ONNX axes of a pure x: the engine axes
// to reduce (a bitmask) and the resulting view.
func reduceView(x *qtensor, axes []int, keep bool) (mask uint32, phys, perm, shape []int) {
	reduced := make([]bool, len(x.shape))
	for _, a := range axes {
		reduced[a] = true
		mask |= 1 << uint(x.perm[a])
	}
	// Engine axes that survive, renumbered.
	newIdx := make([]int, len(x.phys))
	n := 0
	for j := range x.phys {
		if keep || mask&(1<<uint(j)) == 0 {
			newIdx[j] = n
			n++
			if mask&(1<<uint(j)) != 0 {
				phys = append(phys, 1)
			} else {
				phys = append(phys, x.phys[j])
			}
		}
	}
	for i, a := range x.perm {
		if keep || !reduced[i] {
			perm = append(perm, newIdx[a])
			if reduced[i] {
				shape = append(shape, 1)
			} else {
				shape = append(shape, x.shape[i])
			}
		}
	}
	if phys == nil {
		phys, perm, shape = []int{}, []int{}, []int{}
	}
	return mask, phys, perm, shape
}

// permuteConst lays a constant broadcastable to a rank-r ONNX value out in
// the engine order of a pure view: the constant is right-aligned to rank r
// (size-1 axes prepended) and transposed by order.
func permuteConst(shape []int, vals []int64, r int, order []int) ([]int, []int64) {
	full := make([]int, r)
	for i := range full {
		full[i] = 1
	}
	copy(full[r-len(shape):], shape)
	return transposeValues(full, vals, order)
}

// transposeValues transposes row-major values: output axis j is input axis order[j].
func transposeValues(shape []int, vals []int64, order []int) ([]int, []int64) {
	r := len(shape)
	out := make([]int, r)
	for j, a := range order {
		out[j] = shape[a]
	}
	inStride := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		inStride[d] = s
		s *= shape[d]
	}
	res := make([]int64, len(vals))
	idx := make([]int, r)
	for o := range res {
		src := 0
		for j := 0; j < r; j++ {
			src += idx[j] * inStride[order[j]]
		}
		res[o] = vals[src]
		nextIndex(idx, out)
	}
	return out, res
}

// nextIndex advances a row-major multi-index over shape (wrapping to zero
// after the last element).
func nextIndex(idx, shape []int) {
	for d := len(shape) - 1; d >= 0; d-- {
		idx[d]++
		if idx[d] < shape[d] {
			return
		}
		idx[d] = 0
	}
}
