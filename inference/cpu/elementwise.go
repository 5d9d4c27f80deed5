package cpu

import (
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Typed versions of the one-operand elementwise ops. The reference loads
// and stores every element through a dtype switch; here every dtype pair has
// its own loop. An int8 input has only 256 values, so its op becomes a
// 256-entry table filled at Prepare by the reference's own arithmetic
// (reference.Requantize, reference.Clamp): the table is the op.

// requantize: y = Requantize(x − zx, M, s, zy, qmin, qmax) between any dtypes.
func requantize(ts []*inference.Tensor, out *inference.Tensor, a *inference.RequantizeAttrs) reference.NodeFunc {
	x := ts[0]
	f := func(v int64) int64 {
		return reference.Requantize(v-int64(x.ZeroPoint), a.Multiplier, a.Shift, out.ZeroPoint, a.QMin, a.QMax)
	}
	if x.DType == inference.Int8 {
		return tableOp(out.DType, f)
	}
	// (x − zx)·M with |x − zx| ≤ 2^31 and M < 2^31: below 2^62, as in the reference.
	p := &affine{zx: int64(x.ZeroPoint), m: int64(a.Multiplier), r: roundTerm(a.Shift), zy: int64(out.ZeroPoint),
		lo: int64(a.QMin), hi: int64(a.QMax), s: a.Shift & 63}
	switch x.DType {
	case inference.Int16:
		return affineY[int16](p, out.DType)
	case inference.Int32:
		return affineY[int32](p, out.DType)
	}
	return nil
}

// affine is clamp(zy + (((x − zx)·m + r) >> s), lo, hi).
type affine struct {
	zx, m, r, zy, lo, hi int64
	s                    uint32
}

func affineY[X elem](p *affine, y inference.DType) reference.NodeFunc {
	switch y {
	case inference.Int8:
		return affineOp[X, int8](p)
	case inference.Int16:
		return affineOp[X, int16](p)
	case inference.Int32:
		return affineOp[X, int32](p)
	}
	return nil
}

func affineOp[X, Y elem](p *affine) reference.NodeFunc {
	return func(in [][]byte, out []byte) error {
		y := view[Y](out)
		x := view[X](in[0])[:len(y)]
		zx, m, r, zy, lo, hi, s := p.zx, p.m, p.r, p.zy, p.lo, p.hi, p.s&63
		for i := range y {
			y[i] = Y(min(max(zy+((int64(x[i])-zx)*m+r)>>s, lo), hi))
		}
		return nil
	}
}

// tableOp maps each int8 input through f, tabulated once.
func tableOp(y inference.DType, f func(int64) int64) reference.NodeFunc {
	switch y {
	case inference.Int8:
		return tableRun[int8](f)
	case inference.Int16:
		return tableRun[int16](f)
	case inference.Int32:
		return tableRun[int32](f)
	}
	return nil
}

func tableRun[Y elem](f func(int64) int64) reference.NodeFunc {
	table := new([256]Y) // indexed by the input's byte
	for b := range table {
		table[b] = Y(f(int64(int8(b))))
	}
	return lookupRun(table)
}

// lookupRun maps each int8 input through table, indexed by its byte.
func lookupRun[Y elem](table *[256]Y) reference.NodeFunc {
	return func(in [][]byte, out []byte) error {
		y := view[Y](out)
		x := in[0][:len(y)]
		for i := range y {
			y[i] = table[x[i]]
		}
		return nil
	}
}

// lookup: y = table[x + 128], the model's table indexed by the input byte
// (x + 128 = byte(x) XOR 0x80).
func lookup(ts []*inference.Tensor) reference.NodeFunc {
	var table [256]byte
	for b := range table {
		table[b] = ts[1].Data[int(int8(b))+128]
	}
	return func(in [][]byte, y []byte) error {
		x := in[0][:len(y)]
		for i := range y {
			y[i] = table[x[i]]
		}
		return nil
	}
}

// clamp: y = min(max(x, min), max), any dtype.
func clamp(ts []*inference.Tensor, a *inference.ClampAttrs) reference.NodeFunc {
	x := ts[0]
	switch x.DType {
	case inference.Int8:
		return tableRun[int8](func(v int64) int64 { return reference.Clamp(v, int64(a.Min), int64(a.Max)) })
	case inference.Int16:
		return clampRun[int16](int16(a.Min), int16(a.Max))
	case inference.Int32:
		return clampRun[int32](a.Min, a.Max)
	}
	return nil
}

func clampRun[T elem](lo, hi T) reference.NodeFunc {
	return func(in [][]byte, out []byte) error {
		y := view[T](out)
		x := view[T](in[0])[:len(y)]
		for i := range y {
			y[i] = min(max(x[i], lo), hi)
		}
		return nil
	}
}
