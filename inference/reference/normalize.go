package reference

import (
	"math/bits"

	"github.com/infergeth/infergeth/inference"
)

// softmax over the last axis: d = max - x indexes the exp table (d ≤ 255),
// y = clamp(zy + DivRound(e[d]·scale, Σ e)), all in uint64.
func softmax(ts []*inference.Tensor, out *inference.Tensor, a *inference.SoftmaxAttrs) NodeFunc {
	x, table := ts[0], ts[1]
	n := x.Shape[len(x.Shape)-1]
	rows := x.Elements() / n
	exp := make([]uint64, 256)
	for i := range exp {
		exp[i] = uint64(table.At(i))
	}
	return func(in [][]byte, y []byte) error {
		for r := 0; r < rows; r++ {
			row := in[0][r*n : (r+1)*n]
			mx := int8(row[0])
			for _, v := range row[1:] {
				mx = max(mx, int8(v))
			}
			var sum uint64
			for _, v := range row {
				sum += exp[int(mx)-int(int8(v))]
			}
			for j, v := range row {
				q := DivRoundUnsigned(exp[int(mx)-int(int8(v))]*uint64(a.OutputScale), sum)
				inference.Store(y, out.DType, r*n+j, Clamp(int64(out.ZeroPoint)+int64(q), int64(a.QMin), int64(a.QMax)))
			}
		}
		return nil
	}
}

// norm over the last axis of length n (docs/spec.md, LayerNorm and RMSNorm):
//
//	LayerNorm: D_i = n·x_i - Σx      RMSNorm: D_i = x_i - zx
//	Q = Σ D_i², v = floor(Q/n) + ε, P = (62 - bitlen(v)) / 2
//	den = ISqrt(v·2^(2P)), t_i = DivRound(D_i·2^(F+P), den)
//	y_i = clamp(zy + RoundShift(t_i·γ_i + β_i, s))
//
// P gives the square root as many extra bits as fit in 62, so a small
// variance loses no precision; it depends only on v, so it is deterministic.
func norm(ts []*inference.Tensor, out *inference.Tensor, a *inference.NormAttrs, rms bool) NodeFunc {
	x, gamma, beta := ts[0], ts[1], ts[2]
	n := x.Shape[len(x.Shape)-1]
	rows := x.Elements() / n
	return func(in [][]byte, y []byte) error {
		d := make([]int64, n)
		for r := 0; r < rows; r++ {
			row := in[0][r*n : (r+1)*n]
			var sum int64
			for _, v := range row {
				sum += int64(int8(v))
			}
			var q uint64
			for j, v := range row {
				if rms {
					d[j] = int64(int8(v)) - int64(x.ZeroPoint)
				} else {
					d[j] = int64(n)*int64(int8(v)) - sum
				}
				q += uint64(d[j] * d[j])
			}
			v := q/uint64(n) + a.Epsilon
			p := uint32(62-bits.Len64(v)) / 2
			den := int64(inference.ISqrt(v << (2 * p)))
			for j := range row {
				t := DivRound(d[j]<<(a.FractionBits+p), den)
				v := RoundShift(t*gamma.At(j)+beta.At(j), a.Shift)
				inference.Store(y, out.DType, r*n+j, Clamp(int64(out.ZeroPoint)+v, int64(a.QMin), int64(a.QMax)))
			}
		}
		return nil
	}
}
