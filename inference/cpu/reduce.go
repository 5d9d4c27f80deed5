package cpu

import (
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Mean and ArgMax: reductions over axes.

// mean: the input is walked in order (as a strided iteration over the
// input and the int64 sums, whose stride is 0 along reduced axes), each
// value added to its output's sum; then each sum is divided, rounded half up,
// by the count (one prepared divisor). The sums are exact: at most 2^24
// values of |x| ≤ 2^15.
func mean(pool *scratchPool, ts []*inference.Tensor, out *inference.Tensor, a *inference.MeanAttrs) reference.NodeFunc {
	x := ts[0]
	if x.Elements() == out.Elements() {
		// Every reduced axis has size 1: DivRound(v, 1) = v.
		return func(in [][]byte, y []byte) error {
			copy(y, in[0])
			return nil
		}
	}
	kept := rowMajor(inference.ReduceShape(x.Shape, a.Axes, true))
	for d := range kept {
		if a.Axes&(1<<uint(d)) != 0 {
			kept[d] = 0
		}
	}
	it := newStrided(x.Shape, [][]int{rowMajor(x.Shape), kept})
	div := newDivRound(int64(x.Elements() / out.Elements()))
	outs := out.Elements()
	switch x.DType {
	case inference.Int8:
		return meanRun[int8](pool, it, div, outs)
	case inference.Int16:
		return meanRun[int16](pool, it, div, outs)
	}
	return nil
}

func meanRun[T elem](pool *scratchPool, it *strided, div divisor, outs int) reference.NodeFunc {
	n, tx, ts := it.n, it.inner[0], it.inner[1]
	return func(in [][]byte, out []byte) error {
		sc := pool.get()
		defer pool.put(sc)
		sums := int64s(&sc.i64, outs)
		if outs > 1<<16 {
			// As large as the output: not kept in the pool between runs
			// (the reference allocates it per run too).
			defer func() { sc.i64 = nil }()
		}
		x, y := view[T](in[0]), view[T](out)
		it.each(func(ox, os, _ int) {
			switch {
			case tx == 1 && ts == 0:
				var s int64
				for _, v := range x[ox : ox+n] {
					s += int64(v)
				}
				sums[os] += s
			case tx == 1 && ts == 1:
				dst := sums[os : os+n]
				src := x[ox : ox+n]
				for i := range dst {
					dst[i] += int64(src[i])
				}
			default:
				for i := 0; i < n; i++ {
					sums[os] += int64(x[ox])
					ox, os = ox+tx, os+ts
				}
			}
		})
		y = y[:len(sums)]
		for i, s := range sums {
			y[i] = T(div.divRound(s))
		}
		return nil
	}
}

// argMax: along an axis of length n between outer and inner extents. With
// inner = 1 each row is one contiguous scan; otherwise the scan runs over
// the inner columns at once, keeping each column's best value and index
// (the output). A later value replaces the best only if strictly larger,
// so ties keep the lowest index.
func argMax(ts []*inference.Tensor, a *inference.ArgMaxAttrs) reference.NodeFunc {
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
	switch x.DType {
	case inference.Int8:
		return argMaxRun[int8](outer, n, inner)
	case inference.Int16:
		return argMaxRun[int16](outer, n, inner)
	case inference.Int32:
		return argMaxRun[int32](outer, n, inner)
	}
	return nil
}

func argMaxRun[T elem](outer, n, inner int) reference.NodeFunc {
	return func(in [][]byte, out []byte) error {
		x, y := view[T](in[0]), view[int32](out)
		if inner == 1 {
			argMaxRows(y[:outer], x, n)
			return nil
		}
		for o := 0; o < outer; o++ {
			argMaxColumns(y[o*inner:o*inner+inner], x[o*n*inner:(o+1)*n*inner], n)
		}
		return nil
	}
}

// argMaxRows: y[o] is the first index of the largest value of row o of x
// (rows of n). The updates are conditional moves, not branches: with
// random data a branch on each comparison would be mispredicted half the
// time in short rows.
func argMaxRows[T elem](y []int32, x []T, n int) {
	for o := range y {
		row := x[o*n : o*n+n]
		best, at := int32(row[0]), int32(0)
		for j, v := range row {
			w := int32(v)
			if w > best {
				at = int32(j)
			}
			best = max(best, w)
		}
		y[o] = at
	}
}

// argMaxColumns is argMaxRows for the len(y) columns of n rows of x at
// once, a block of columns at a time (their best values stay in L1).
func argMaxColumns[T elem](y []int32, x []T, n int) {
	inner := len(y)
	var buf [512]int32
	for c0 := 0; c0 < inner; c0 += len(buf) {
		yb := y[c0:min(c0+len(buf), inner)]
		best := buf[:len(yb)]
		for i, v := range x[c0 : c0+len(yb)] {
			best[i], yb[i] = int32(v), 0
		}
		for j := 1; j < n; j++ {
			row := x[j*inner+c0 : j*inner+c0+len(yb)]
			for i, v := range row {
				w, at := int32(v), yb[i]
				if w > best[i] {
					at = int32(j)
				}
				best[i], yb[i] = max(best[i], w), at
			}
		}
	}
}
