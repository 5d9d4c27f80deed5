package reference

import (
	"github.com/infergeth/infergeth/inference"
)

// reshape copies the bytes: the layout is row-major either way.
func reshape() NodeFunc {
	return func(in [][]byte, y []byte) error {
		copy(y, in[0])
		return nil
	}
}

// transpose: output axis i is input axis perm[i].
func transpose(ts []*inference.Tensor, out *inference.Tensor, a *inference.TransposeAttrs) NodeFunc {
	x := ts[0]
	r := len(x.Shape)
	size := x.DType.Size()
	inStride := make([]int, r)
	s := 1
	for d := r - 1; d >= 0; d-- {
		inStride[d] = s
		s *= x.Shape[d]
	}
	// Walking the output in order, axis i of the output steps the input by
	// the stride of input axis perm[i].
	step := make([]int, r)
	for i := 0; i < r; i++ {
		step[i] = inStride[a.Perm[i]]
	}
	n := x.Elements()
	return func(in [][]byte, y []byte) error {
		idx := make([]int, r)
		src := 0
		for o := 0; o < n; o++ {
			copy(y[o*size:(o+1)*size], in[0][src*size:(src+1)*size])
			for d := r - 1; d >= 0; d-- {
				idx[d]++
				src += step[d]
				if idx[d] < out.Shape[d] {
					break
				}
				src -= step[d] * idx[d]
				idx[d] = 0
			}
		}
		return nil
	}
}

// concat joins the operands along the axis.
func concat(ts []*inference.Tensor, out *inference.Tensor, a *inference.ConcatAttrs) NodeFunc {
	axis := int(a.Axis)
	size := out.DType.Size()
	outer := 1
	for d := 0; d < axis; d++ {
		outer *= out.Shape[d]
	}
	inner := size
	for d := axis + 1; d < len(out.Shape); d++ {
		inner *= out.Shape[d]
	}
	chunks := make([]int, len(ts)) // bytes each operand contributes per outer step
	for k, t := range ts {
		chunks[k] = t.Shape[axis] * inner
	}
	return func(in [][]byte, y []byte) error {
		o := 0
		for i := 0; i < outer; i++ {
			for k, c := range chunks {
				o += copy(y[o:], in[k][i*c:(i+1)*c])
			}
		}
		return nil
	}
}

// gather selects rows of data along axis 0. An index outside [0, rows) is
// the caller's fault: a deterministic ErrBadInput.
func gather(ts []*inference.Tensor, out *inference.Tensor) NodeFunc {
	data, indices := ts[0], ts[1]
	rows := data.Shape[0]
	row := data.Bytes() / rows
	n := indices.Elements()
	return func(in [][]byte, y []byte) error {
		for i := 0; i < n; i++ {
			v := inference.Load(in[1], indices.DType, i)
			if v < 0 || v >= int64(rows) {
				return inference.BadInput("gather index %d at position %d is outside [0, %d)", v, i, rows)
			}
			copy(y[i*row:(i+1)*row], in[0][int(v)*row:(int(v)+1)*row])
		}
		return nil
	}
}

// argMax: the index of the first largest value along the axis.
func argMax(ts []*inference.Tensor, out *inference.Tensor, a *inference.ArgMaxAttrs) NodeFunc {
	x := ts[0]
	axis := int(a.Axis)
	outer, inner := 1, 1
	for d := 0; d < axis; d++ {
		outer *= x.Shape[d]
	}
	for d := axis + 1; d < len(x.Shape); d++ {
		inner *= x.Shape[d]
	}
	n := x.Shape[axis]
	return func(in [][]byte, y []byte) error {
		for o := 0; o < outer; o++ {
			for i := 0; i < inner; i++ {
				best, bestAt := int64(0), 0
				for j := 0; j < n; j++ {
					v := inference.Load(in[0], x.DType, (o*n+j)*inner+i)
					if j == 0 || v > best {
						best, bestAt = v, j
					}
				}
				inference.Store(y, inference.Int32, o*inner+i, int64(bestAt))
			}
		}
		return nil
	}
}
