package cpu

import (
	"math/bits"
	"slices"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Typed versions of two arithmetic ops that dominate small transformer
// blocks once their dense ops run at kernel speed. They compute the
// reference's formulas with the reference's own rounding functions
// (reference.RoundShift, DivRound, Clamp) and differ only in how they read
// and write elements: typed loops instead of a dtype switch per element.

// load returns element i of b as dtype dt (int8, int16 or int32).
func load(b []byte, size, i int) int64 {
	switch size {
	case 1:
		return int64(int8(b[i]))
	case 2:
		return int64(int16(uint16(b[2*i]) | uint16(b[2*i+1])<<8))
	}
	return int64(int32(uint32(b[4*i]) | uint32(b[4*i+1])<<8 | uint32(b[4*i+2])<<16 | uint32(b[4*i+3])<<24))
}

// store writes v (in range) as element i of a size-byte dtype.
func store(b []byte, size, i int, v int64) {
	switch size {
	case 1:
		b[i] = byte(v)
	case 2:
		b[2*i], b[2*i+1] = byte(v), byte(v>>8)
	default:
		b[4*i], b[4*i+1], b[4*i+2], b[4*i+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
	}
}

// add: y = clamp(zy + RoundShift((a−za)·MA + (b−zb)·MB, s), qmin, qmax),
// for operands of equal shape (broadcasting stays with the reference).
func add(ts []*inference.Tensor, out *inference.Tensor, a *inference.AddAttrs) reference.NodeFunc {
	ta, tb := ts[0], ts[1]
	if !slices.Equal(ta.Shape, tb.Shape) {
		return nil
	}
	n := out.Elements()
	sa, sb, so := ta.DType.Size(), tb.DType.Size(), out.DType.Size()
	za, zb, zy := int64(ta.ZeroPoint), int64(tb.ZeroPoint), int64(out.ZeroPoint)
	ma, mb := int64(a.MultiplierA), int64(a.MultiplierB)
	lo, hi := int64(a.QMin), int64(a.QMax)
	return func(in [][]byte, y []byte) error {
		A, B := in[0][:n*sa], in[1][:n*sb]
		y = y[:n*so]
		if sa == 1 && sb == 1 && so == 1 {
			for i := range y {
				t := (int64(int8(A[i]))-za)*ma + (int64(int8(B[i]))-zb)*mb
				y[i] = byte(reference.Clamp(zy+reference.RoundShift(t, a.Shift), lo, hi))
			}
			return nil
		}
		for i := 0; i < n; i++ {
			t := (load(A, sa, i)-za)*ma + (load(B, sb, i)-zb)*mb
			store(y, so, i, reference.Clamp(zy+reference.RoundShift(t, a.Shift), lo, hi))
		}
		return nil
	}
}

// norm is LayerNorm (rms false) or RMSNorm over the last axis, exactly the
// reference's computation (docs/spec.md):
//
//	LayerNorm: D_i = n·x_i − Σx      RMSNorm: D_i = x_i − zx
//	Q = Σ D_i², v = floor(Q/n) + ε, P = (62 − bitlen(v)) / 2
//	den = ISqrt(v·2^(2P)), t_i = DivRound(D_i·2^(F+P), den)
//	y_i = clamp(zy + RoundShift(t_i·γ_i + β_i, s))
func norm(pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.NormAttrs, rms bool) reference.NodeFunc {
	x, gamma, beta := ts[0], ts[1], ts[2]
	n := x.Shape[len(x.Shape)-1]
	rows := x.Elements() / n
	g, b := make([]int64, n), make([]int64, n)
	for j := range g {
		g[j], b[j] = gamma.At(j), beta.At(j)
	}
	so := out.DType.Size()
	zx, zy := int64(x.ZeroPoint), int64(out.ZeroPoint)
	lo, hi := int64(a.QMin), int64(a.QMax)
	return func(in [][]byte, y []byte) error {
		sc := pool.get()
		defer pool.put(sc)
		d := int64s(&sc.colsum, n)
		for r := 0; r < rows; r++ {
			row := in[0][r*n : (r+1)*n]
			var sum int64
			if !rms {
				sum = sumInt8(row)
			}
			var q uint64
			for j, v := range row {
				if rms {
					d[j] = int64(int8(v)) - zx
				} else {
					d[j] = int64(n)*int64(int8(v)) - sum
				}
				q += uint64(d[j] * d[j])
			}
			v := q/uint64(n) + a.Epsilon
			p := uint32(62-bits.Len64(v)) / 2
			den := int64(inference.ISqrt(v << (2 * p)))
			sh := a.FractionBits + p
			for j := range row {
				t := reference.DivRound(d[j]<<sh, den)
				store(y, so, r*n+j, reference.Clamp(zy+reference.RoundShift(t*g[j]+b[j], a.Shift), lo, hi))
			}
		}
		return nil
	}
}
