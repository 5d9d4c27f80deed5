package reference

import (
	"github.com/infergeth/infergeth/inference"
)

// broadcastIndex maps each flat output index to the flat indices of two
// numpy-broadcast operands.
type broadcastIndex struct {
	shape    []int
	strideA  []int // 0 along broadcast axes
	strideB  []int
	elements int
}

func newBroadcast(a, b, out []int) broadcastIndex {
	r := len(out)
	bi := broadcastIndex{shape: out, strideA: operandStrides(a, out), strideB: operandStrides(b, out), elements: 1}
	for i := 0; i < r; i++ {
		bi.elements *= out[i]
	}
	return bi
}

// operandStrides returns, for each output axis, the operand's stride along
// it (0 where the operand is broadcast or has no such axis).
func operandStrides(op, out []int) []int {
	r := len(out)
	strides := make([]int, r)
	s := 1
	for i := r - 1; i >= 0; i-- {
		j := len(op) - r + i
		if j < 0 {
			continue
		}
		if op[j] != 1 {
			strides[i] = s
		}
		s *= op[j]
	}
	return strides
}

// each calls f(outIndex, aIndex, bIndex) for every output element in order.
func (bi *broadcastIndex) each(f func(o, ia, ib int)) {
	r := len(bi.shape)
	idx := make([]int, r)
	ia, ib := 0, 0
	for o := 0; o < bi.elements; o++ {
		f(o, ia, ib)
		for d := r - 1; d >= 0; d-- {
			idx[d]++
			ia += bi.strideA[d]
			ib += bi.strideB[d]
			if idx[d] < bi.shape[d] {
				break
			}
			ia -= bi.strideA[d] * idx[d]
			ib -= bi.strideB[d] * idx[d]
			idx[d] = 0
		}
	}
}

// add: y = clamp(zy + RoundShift((a-za)·Ma + (b-zb)·Mb, s)).
func add(ts []*inference.Tensor, out *inference.Tensor, a *inference.AddAttrs) NodeFunc {
	bi := newBroadcast(ts[0].Shape, ts[1].Shape, out.Shape)
	ta, tb := ts[0], ts[1]
	return func(in [][]byte, y []byte) error {
		bi.each(func(o, ia, ib int) {
			t := (inference.Load(in[0], ta.DType, ia)-int64(ta.ZeroPoint))*int64(a.MultiplierA) +
				(inference.Load(in[1], tb.DType, ib)-int64(tb.ZeroPoint))*int64(a.MultiplierB)
			v := Clamp(int64(out.ZeroPoint)+RoundShift(t, a.Shift), int64(a.QMin), int64(a.QMax))
			inference.Store(y, out.DType, o, v)
		})
		return nil
	}
}

// mul: y = clamp(zy + RoundShift((a-za)·(b-zb)·M, s)).
func mul(ts []*inference.Tensor, out *inference.Tensor, a *inference.MulAttrs) NodeFunc {
	bi := newBroadcast(ts[0].Shape, ts[1].Shape, out.Shape)
	za, zb := int64(ts[0].ZeroPoint), int64(ts[1].ZeroPoint)
	return func(in [][]byte, y []byte) error {
		bi.each(func(o, ia, ib int) {
			p := (int64(int8(in[0][ia])) - za) * (int64(int8(in[1][ib])) - zb)
			inference.Store(y, out.DType, o, Requantize(p, a.Multiplier, a.Shift, out.ZeroPoint, a.QMin, a.QMax))
		})
		return nil
	}
}

// requantize: y = clamp(zy + RoundShift((x-zx)·M, s)), between any types.
func requantize(ts []*inference.Tensor, out *inference.Tensor, a *inference.RequantizeAttrs) NodeFunc {
	x := ts[0]
	n := x.Elements()
	return func(in [][]byte, y []byte) error {
		for i := 0; i < n; i++ {
			v := inference.Load(in[0], x.DType, i) - int64(x.ZeroPoint)
			inference.Store(y, out.DType, i, Requantize(v, a.Multiplier, a.Shift, out.ZeroPoint, a.QMin, a.QMax))
		}
		return nil
	}
}

// lookup: y = table[x + 128].
func lookup(ts []*inference.Tensor, out *inference.Tensor) NodeFunc {
	table := ts[1].Data
	return func(in [][]byte, y []byte) error {
		for i, v := range in[0] {
			y[i] = table[int(int8(v))+128]
		}
		return nil
	}
}

// clamp: y = min(max(x, min), max).
func clamp(ts []*inference.Tensor, out *inference.Tensor, a *inference.ClampAttrs) NodeFunc {
	x := ts[0]
	n := x.Elements()
	return func(in [][]byte, y []byte) error {
		for i := 0; i < n; i++ {
			inference.Store(y, x.DType, i, Clamp(inference.Load(in[0], x.DType, i), int64(a.Min), int64(a.Max)))
		}
		return nil
	}
}
