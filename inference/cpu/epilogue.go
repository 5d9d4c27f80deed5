package cpu

import (
	"unsafe"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// epilogue is the per-column requantization of a dense node, laid out for
// the vector epilogue: int64 lanes of multiplier, rounding term 2^(s-1) (0
// when s = 0) and shift, padded with multiplier 1, shift 0 up to a whole
// number of 16-column groups beyond the last column.
type epilogue struct {
	mult, round, shift []int64
	zy, qmin, qmax     int64
	dtype              inference.DType
	esize              int
}

// bytes is what the epilogue keeps.
func (ep *epilogue) bytes() int { return 8 * (len(ep.mult) + len(ep.round) + len(ep.shift)) }

func newEpilogue(cols, padded int, mult, shift func(c int) int64, zy, qmin, qmax int32, dt inference.DType) *epilogue {
	padded = roundUp(max(padded, cols), 16)
	ep := &epilogue{
		mult: make([]int64, padded), round: make([]int64, padded), shift: make([]int64, padded),
		zy: int64(zy), qmin: int64(qmin), qmax: int64(qmax), dtype: dt, esize: dt.Size(),
	}
	for c := range padded {
		ep.mult[c] = 1
		if c < cols {
			ep.mult[c], ep.shift[c] = mult(c), shift(c)
			if s := ep.shift[c]; s > 0 {
				ep.round[c] = 1 << (s - 1)
			}
		}
	}
	return ep
}

// requant turns rows × cols accumulators (tile, ldc int32 apart) of columns
// col0.. into output elements at out[off:], ldo bytes apart. The tile must
// hold whole groups of 16 columns (its padding is read, never stored).
func (ks *kernelSet) requant(ep *epilogue, tile []int32, ldc, rows, cols, col0 int, out []byte, off, ldo int) {
	// Bounds: panic here, in Go, rather than let a kernel stray.
	_ = out[off+(rows-1)*ldo+cols*ep.esize-1]
	_ = tile[(rows-1)*ldc+roundUp(cols, 16)-1]
	_ = ep.mult[col0+roundUp(cols, 16)-1]
	a := requantArgs{
		c: unsafe.Pointer(&tile[0]), ldc: uintptr(ldc * 4), rows: uintptr(rows), cols: uintptr(cols),
		mult: unsafe.Pointer(&ep.mult[col0]), round: unsafe.Pointer(&ep.round[col0]), shift: unsafe.Pointer(&ep.shift[col0]),
		zy: ep.zy, qmin: ep.qmin, qmax: ep.qmax, out: unsafe.Pointer(&out[off]), ldo: uintptr(ldo),
	}
	if ks.requantVector(&a, ep.esize) {
		return
	}
	ep.requantGo(tile, ldc, rows, cols, col0, out, off, ldo)
}

// requantGo is the epilogue in Go: reference.Requantize itself.
func (ep *epilogue) requantGo(tile []int32, ldc, rows, cols, col0 int, out []byte, off, ldo int) {
	for r := 0; r < rows; r++ {
		acc := tile[r*ldc : r*ldc+cols]
		o := off + r*ldo
		for c, v := range acc {
			y := reference.Requantize(int64(v), int32(ep.mult[col0+c]), uint32(ep.shift[col0+c]), int32(ep.zy), int32(ep.qmin), int32(ep.qmax))
			switch ep.esize {
			case 1:
				out[o+c] = byte(y)
			case 2:
				out[o+2*c], out[o+2*c+1] = byte(y), byte(y>>8)
			default:
				out[o+4*c], out[o+4*c+1], out[o+4*c+2], out[o+4*c+3] = byte(y), byte(y>>8), byte(y>>16), byte(y>>24)
			}
		}
	}
}
