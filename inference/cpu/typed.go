package cpu

import (
	"math"
	"math/bits"
	"unsafe"

	"github.com/infergeth/infergeth/params"
)

// Helpers of the typed element ops (elementwise.go, broadcast.go,
// layout.go, pool.go, reduce.go, normalize.go): element views of a tensor's
// bytes, exact division by a divisor fixed before the loop, and strided
// iteration over collapsed axes.

// elem is the Go type of a tensor element: int8, int16 or int32.
type elem interface{ ~int8 | ~int16 | ~int32 }

// view returns b's elements as a []T. Tensors are little-endian and so is
// every architecture that installs these ops (amd64: the backend's kernels
// are amd64-only, and other architectures run the reference code). x86
// loads need no alignment, and T holds no pointers, so any address is fine.
func view[T elem](b []byte) []T {
	var z T
	n := len(b) / int(unsafe.Sizeof(z))
	if n == 0 {
		return nil
	}
	return unsafe.Slice((*T)(unsafe.Pointer(unsafe.SliceData(b))), n)
}

// divisor divides by a d ≥ 1 fixed before a loop with one multiplication:
// r = floor((2^64−1)/d) satisfies 2^64/d − 1 ≤ r < 2^64/d, so for every
// uint64 n the high word of n·r is floor(n/d) or one less, and one
// comparison of the remainder settles which. The result is exactly
// floor(n/d): the same integer the reference's division gives.
type divisor struct{ d, r uint64 }

func newDivisor(d uint64) divisor { return divisor{d: d, r: math.MaxUint64 / d} }

// div is floor(n / d).
func (v divisor) div(n uint64) uint64 {
	q, _ := bits.Mul64(n, v.r)
	if n-q*v.d >= v.d {
		q++
	}
	return q
}

// floorDiv is floor(n / d) for a signed n > math.MinInt64, without a
// branch on the sign: for n < 0, floor(n/d) = −floor((|n| + d − 1) / d).
func (v divisor) floorDiv(n int64) int64 {
	m := n >> 63 // 0 or −1
	u := uint64((n^m)-m) + uint64(m)&(v.d-1)
	q := int64(v.div(u))
	return (q ^ m) - m
}

// divRound is reference.DivRound(a, b) = floor((2a + b) / 2b) for the b of
// a divisor made by newDivRound(b).
func (v divisor) divRound(a int64) int64 { return v.floorDiv(2*a + int64(v.d>>1)) }

// newDivRound prepares DivRound by b ≥ 1 (the divisor is 2b).
func newDivRound(b int64) divisor { return newDivisor(uint64(2 * b)) }

// roundTerm is the rounding constant of reference.RoundShift(v, s):
// RoundShift(v, s) = (v + roundTerm(s)) >> s for every s ≤ 62, s = 0 included.
func roundTerm(s uint32) int64 {
	if s == 0 {
		return 0
	}
	return 1 << (s - 1)
}

// strided is an iteration over up to MaxTensorRank axes for up to three
// operands at once (operand 0 is usually the output): an inner run of n
// elements whose element strides are inner, repeated over the outer axes
// dims (outermost first) whose strides are step.
type strided struct {
	n     int
	inner [3]int
	rank  int
	dims  [params.MaxTensorRank]int
	step  [params.MaxTensorRank][3]int
}

// newStrided builds the iteration over shape for operands with the given
// per-axis strides (0 where an operand is broadcast). It drops axes of size
// 1, merges neighbouring axes that every operand walks contiguously, and
// makes the run the last axis unless that is short and another axis is
// longer (then the innermost axis of at least 16, or the longest), so the
// per-run overhead is spread over at least min(16, elements^(1/rank))
// elements.
func newStrided(shape []int, strides [][]int) *strided {
	return runOf(collapse(shape, strides))
}

// collapse drops the axes of size 1 from shape and merges neighbouring
// axes that every operand walks contiguously; it returns the remaining
// sizes and each one's strides (operand k's at [k]).
func collapse(shape []int, strides [][]int) ([]int, [][3]int) {
	var dims []int
	var st [][3]int
	for d, n := range shape {
		if n == 1 {
			continue
		}
		var s [3]int
		for k := range strides {
			s[k] = strides[k][d]
		}
		if len(dims) > 0 {
			last := len(dims) - 1
			merge := true
			for k := range s {
				merge = merge && st[last][k] == s[k]*n
			}
			if merge {
				dims[last] *= n
				st[last] = s
				continue
			}
		}
		dims = append(dims, n)
		st = append(st, s)
	}
	return dims, st
}

// runOf makes the iteration over collapsed axes.
func runOf(dims []int, st [][3]int) *strided {
	it := &strided{n: 1}
	if len(dims) == 0 {
		return it
	}
	// The run: the innermost axis at least 16 long, else the longest
	// (innermost first: its strides are the smallest).
	in := len(dims) - 1
	for d := len(dims) - 1; d >= 0 && dims[in] < 16; d-- {
		if dims[d] > dims[in] {
			in = d
		}
	}
	it.n, it.inner = dims[in], st[in]
	for d := range dims {
		if d != in {
			it.dims[it.rank], it.step[it.rank] = dims[d], st[d]
			it.rank++
		}
	}
	return it
}

// each calls run with the start offsets of every inner run, in order.
func (it *strided) each(run func(o0, o1, o2 int)) {
	var idx [params.MaxTensorRank]int
	var o0, o1, o2 int
	for {
		run(o0, o1, o2)
		d := it.rank - 1
		for ; d >= 0; d-- {
			s := &it.step[d]
			idx[d]++
			o0, o1, o2 = o0+s[0], o1+s[1], o2+s[2]
			if idx[d] < it.dims[d] {
				break
			}
			o0, o1, o2 = o0-s[0]*idx[d], o1-s[1]*idx[d], o2-s[2]*idx[d]
			idx[d] = 0
		}
		if d < 0 {
			return
		}
	}
}

// rowMajor returns the row-major element strides of shape.
func rowMajor(shape []int) []int {
	s := make([]int, len(shape))
	n := 1
	for d := len(shape) - 1; d >= 0; d-- {
		s[d] = n
		n *= shape[d]
	}
	return s
}

// broadcastStrides returns, for each axis of out, op's element stride along
// it: 0 where op has size 1 or lacks the axis (numpy broadcasting, shapes
// right-aligned).
func broadcastStrides(op, out []int) []int {
	s := make([]int, len(out))
	n := 1
	for i := len(out) - 1; i >= 0; i-- {
		j := len(op) - len(out) + i
		if j < 0 {
			continue
		}
		if op[j] != 1 {
			s[i] = n
		}
		n *= op[j]
	}
	return s
}
