package reference

// RoundShift divides v by 2^s rounding half up (toward +∞ on a tie):
// (v + 2^(s-1)) >> s with an arithmetic shift; v itself when s is 0.
// Callers keep |v| + 2^(s-1) below 2^63 (the overflow proof does).
func RoundShift(v int64, s uint32) int64 {
	if s == 0 {
		return v
	}
	return (v + 1<<(s-1)) >> s
}

// DivRound divides a by b > 0 rounding half up: floor((2a + b) / 2b).
func DivRound(a, b int64) int64 {
	return floorDiv(2*a+b, 2*b)
}

// DivRoundUnsigned is DivRound for non-negative operands in uint64.
func DivRoundUnsigned(a, b uint64) uint64 {
	return (2*a + b) / (2 * b)
}

func floorDiv(n, d int64) int64 {
	q := n / d
	if n%d != 0 && (n < 0) != (d < 0) {
		q--
	}
	return q
}

// Clamp bounds v to [lo, hi].
func Clamp(v, lo, hi int64) int64 {
	return min(max(v, lo), hi)
}

// Requantize is the requantization of every dense op:
// clamp(zp + RoundShift(acc·multiplier, shift), qmin, qmax).
func Requantize(acc int64, multiplier int32, shift uint32, zp, qmin, qmax int32) int64 {
	return Clamp(int64(zp)+RoundShift(acc*int64(multiplier), shift), int64(qmin), int64(qmax))
}
