package cpu

import (
	"encoding/binary"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// The data-movement ops: Transpose, Concat and Gather. No arithmetic, so
// nothing to round; what the reference spends its time on is a copy call or
// a dtype switch per element. Here runs of bytes move as whole words where
// they can (1, 2, 4 or 8 bytes as one load and store; 2 to 16 as two
// overlapping words; longer ones with copy). Transpose is in transpose.go.
// (Reshape is a single copy in the reference already.)

// word is an unsigned type moved as one unit: a run of 1, 2, 4 or 8 bytes.
type word interface {
	~uint8 | ~uint16 | ~uint32 | ~uint64
}

// moveRuns copies count runs of n bytes: run k from x[xo + k·xs] to
// y[yo + k·ys]. Runs of 1, 2, 4 or 8 bytes move as one load and store,
// runs of 3 to 16 bytes as two overlapping ones (each mover is its own
// non-generic function, so that its loads and stores are inlined).
func moveRuns(y []byte, yo, ys int, x []byte, xo, xs, count, n int) {
	switch {
	case n == 1:
		for k := 0; k < count; k++ {
			y[yo] = x[xo]
			yo, xo = yo+ys, xo+xs
		}
	case n == 2:
		for k := 0; k < count; k++ {
			binary.LittleEndian.PutUint16(y[yo:yo+2], binary.LittleEndian.Uint16(x[xo:xo+2]))
			yo, xo = yo+ys, xo+xs
		}
	case n < 4: // 3: bytes 0-1 and 1-2
		for k := 0; k < count; k++ {
			a, b := binary.LittleEndian.Uint16(x[xo:xo+2]), binary.LittleEndian.Uint16(x[xo+1:xo+3])
			binary.LittleEndian.PutUint16(y[yo:yo+2], a)
			binary.LittleEndian.PutUint16(y[yo+1:yo+3], b)
			yo, xo = yo+ys, xo+xs
		}
	case n == 4:
		for k := 0; k < count; k++ {
			binary.LittleEndian.PutUint32(y[yo:yo+4], binary.LittleEndian.Uint32(x[xo:xo+4]))
			yo, xo = yo+ys, xo+xs
		}
	case n < 8:
		t := n - 4
		for k := 0; k < count; k++ {
			a, b := binary.LittleEndian.Uint32(x[xo:xo+4]), binary.LittleEndian.Uint32(x[xo+t:xo+t+4])
			binary.LittleEndian.PutUint32(y[yo:yo+4], a)
			binary.LittleEndian.PutUint32(y[yo+t:yo+t+4], b)
			yo, xo = yo+ys, xo+xs
		}
	case n == 8:
		for k := 0; k < count; k++ {
			binary.LittleEndian.PutUint64(y[yo:yo+8], binary.LittleEndian.Uint64(x[xo:xo+8]))
			yo, xo = yo+ys, xo+xs
		}
	case n <= 16:
		t := n - 8
		for k := 0; k < count; k++ {
			a, b := binary.LittleEndian.Uint64(x[xo:xo+8]), binary.LittleEndian.Uint64(x[xo+t:xo+t+8])
			binary.LittleEndian.PutUint64(y[yo:yo+8], a)
			binary.LittleEndian.PutUint64(y[yo+t:yo+t+8], b)
			yo, xo = yo+ys, xo+xs
		}
	default:
		for k := 0; k < count; k++ {
			copy(y[yo:yo+n], x[xo:xo+n])
			yo, xo = yo+ys, xo+xs
		}
	}
}

// concat: for each operand, its chunk of every outer step is one run.
func concat(ts []*inference.Tensor, out *inference.Tensor, a *inference.ConcatAttrs) reference.NodeFunc {
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
	chunks := make([]int, len(ts)) // bytes per outer step
	row := 0
	for k, t := range ts {
		chunks[k] = t.Shape[axis] * inner
		row += chunks[k]
	}
	return func(in [][]byte, y []byte) error {
		off := 0
		for k, c := range chunks {
			moveRuns(y, off, row, in[k], 0, c, outer, c)
			off += c
		}
		return nil
	}
}

// gather: row v of data for every index v, as one run per index.
func gather(ts []*inference.Tensor, out *inference.Tensor) reference.NodeFunc {
	data, indices := ts[0], ts[1]
	rows := data.Shape[0]
	row := data.Bytes() / rows
	switch indices.DType {
	case inference.Int8:
		return gatherRun[int8](rows, row)
	case inference.Int16:
		return gatherRun[int16](rows, row)
	case inference.Int32:
		return gatherRun[int32](rows, row)
	}
	return nil
}

func gatherRun[I elem](rows, row int) reference.NodeFunc {
	switch row {
	case 1:
		return gatherWords[I, uint8](rows)
	case 2:
		return gatherWords[I, uint16](rows)
	case 4:
		return gatherWords[I, uint32](rows)
	case 8:
		return gatherWords[I, uint64](rows)
	}
	return func(in [][]byte, y []byte) error {
		idx := view[I](in[1])
		if err := checkIndices(idx, rows); err != nil {
			return err
		}
		gatherRows(y, in[0], idx, row)
		return nil
	}
}

// gatherRows copies row n·v of x to row i of y for each index v = idx[i]
// (in range): as two overlapping words when n ≤ 16, else with copy.
func gatherRows[I elem](y, x []byte, idx []I, n int) {
	le := binary.LittleEndian
	switch {
	case n < 4: // 3
		for i, v := range idx {
			xo, yo := int(v)*n, i*n
			a, b := le.Uint16(x[xo:xo+2]), le.Uint16(x[xo+1:xo+3])
			le.PutUint16(y[yo:yo+2], a)
			le.PutUint16(y[yo+1:yo+3], b)
		}
	case n < 8:
		t := n - 4
		for i, v := range idx {
			xo, yo := int(v)*n, i*n
			a, b := le.Uint32(x[xo:xo+4]), le.Uint32(x[xo+t:xo+t+4])
			le.PutUint32(y[yo:yo+4], a)
			le.PutUint32(y[yo+t:yo+t+4], b)
		}
	case n <= 16:
		t := n - 8
		for i, v := range idx {
			xo, yo := int(v)*n, i*n
			a, b := le.Uint64(x[xo:xo+8]), le.Uint64(x[xo+t:xo+t+8])
			le.PutUint64(y[yo:yo+8], a)
			le.PutUint64(y[yo+t:yo+t+8], b)
		}
	default:
		for i, v := range idx {
			copy(y[i*n:i*n+n], x[int(v)*n:int(v)*n+n])
		}
	}
}

// gatherWords: rows of one word, as typed views.
func gatherWords[I elem, W word](rows int) reference.NodeFunc {
	return func(in [][]byte, out []byte) error {
		idx, data, y := view[I](in[1]), viewWords[W](in[0]), viewWords[W](out)
		y = y[:len(idx)]
		for i, v := range idx {
			if uint(int(v)) >= uint(rows) {
				return badIndex(int64(v), i, rows)
			}
			y[i] = data[v]
		}
		return nil
	}
}

// checkIndices returns the reference's error for the first index outside
// [0, rows), or nil.
func checkIndices[I elem](idx []I, rows int) error {
	for i, v := range idx {
		if uint(int(v)) >= uint(rows) {
			return badIndex(int64(v), i, rows)
		}
	}
	return nil
}

func badIndex(v int64, i, rows int) error {
	return inference.BadInput("gather index %d at position %d is outside [0, %d)", v, i, rows)
}
