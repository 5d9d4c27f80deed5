package reference

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// The rounding rules checked against exact rational arithmetic: round half
// up is floor(q + 1/2) for the exact quotient q.
func roundHalfUp(num, den *big.Int) int64 {
	// floor((2·num + den) / (2·den)) with den > 0, in big integers.
	n := new(big.Int).Lsh(num, 1)
	n.Add(n, den)
	d := new(big.Int).Lsh(den, 1)
	q := new(big.Int)
	q.Div(n, d) // Euclidean division; d > 0, so this is floor
	return q.Int64()
}

func TestRoundShiftMatchesExactRounding(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	edges := []int64{0, 1, -1, 2, -2, 3, -3, math.MaxInt32, math.MinInt32, 1 << 40, -(1 << 40), 1<<61 - 1, -(1 << 61)}
	for i := 0; i < 200000; i++ {
		var v int64
		if i < len(edges)*63 {
			v = edges[i%len(edges)]
		} else {
			v = r.Int64N(1<<62) - 1<<61
		}
		s := uint32(i % 63)
		got := RoundShift(v, s)
		want := roundHalfUp(big.NewInt(v), new(big.Int).Lsh(big.NewInt(1), uint(s)))
		if got != want {
			t.Fatalf("RoundShift(%d, %d) = %d, want %d", v, s, got, want)
		}
	}
}

func TestTiesRoundUp(t *testing.T) {
	for _, c := range []struct {
		v    int64
		s    uint32
		want int64
	}{{1, 1, 1}, {-1, 1, 0}, {3, 1, 2}, {-3, 1, -1}, {2, 2, 1}, {-2, 2, 0}, {6, 2, 2}, {-6, 2, -1}, {-5, 1, -2}} {
		if got := RoundShift(c.v, c.s); got != c.want {
			t.Errorf("RoundShift(%d, %d) = %d, want %d", c.v, c.s, got, c.want)
		}
	}
}

func TestDivRoundMatchesExactRounding(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for i := 0; i < 200000; i++ {
		a := r.Int64N(1<<50) - 1<<49
		b := r.Int64N(1<<20) + 1
		if i%7 == 0 { // force ties: a = b·k + b/2 with b even
			b = 2 * (r.Int64N(1000) + 1)
			a = b*(r.Int64N(2000)-1000) + b/2
		}
		if got, want := DivRound(a, b), roundHalfUp(big.NewInt(a), big.NewInt(b)); got != want {
			t.Fatalf("DivRound(%d, %d) = %d, want %d", a, b, got, want)
		}
		if a >= 0 {
			if got := int64(DivRoundUnsigned(uint64(a), uint64(b))); got != DivRound(a, b) {
				t.Fatalf("DivRoundUnsigned(%d, %d) = %d, want %d", a, b, got, DivRound(a, b))
			}
		}
	}
}

func TestRequantizeExtremes(t *testing.T) {
	// The most negative accumulator with the largest multiplier and the
	// largest shift stays exact in int64.
	acc := int64(math.MinInt32)
	got := Requantize(acc, math.MaxInt32, 62, 0, math.MinInt32, math.MaxInt32)
	want := roundHalfUp(new(big.Int).Mul(big.NewInt(acc), big.NewInt(math.MaxInt32)), new(big.Int).Lsh(big.NewInt(1), 62))
	if got != want {
		t.Fatalf("Requantize = %d, want %d", got, want)
	}
	if got := Requantize(1000, 1, 0, 5, -128, 127); got != 127 {
		t.Fatalf("clamp high: %d", got)
	}
	if got := Requantize(-1000, 1, 0, 5, -10, 127); got != -10 {
		t.Fatalf("clamp low: %d", got)
	}
}
