package detmath

import (
	"math"
	"math/rand/v2"
	"testing"
)

func close(got, want, rel float64) bool {
	if math.IsInf(want, 0) || math.IsNaN(want) {
		return got == want || (math.IsNaN(got) && math.IsNaN(want))
	}
	return math.Abs(got-want) <= rel*math.Max(math.Abs(want), 1e-300)
}

func TestAgainstMath(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		x := (r.Float64() - 0.5) * 60
		if i%3 == 0 {
			x = (r.Float64() - 0.5) * 8
		}
		if got, want := Exp(x), math.Exp(x); !close(got, want, 4e-16) {
			t.Fatalf("Exp(%v) = %v, want %v", x, got, want)
		}
		if got, want := Tanh(x), math.Tanh(x); !close(got, want, 1e-14) && math.Abs(got-want) > 1e-16 {
			t.Fatalf("Tanh(%v) = %v, want %v", x, got, want)
		}
		if got, want := Erf(x), math.Erf(x); math.Abs(got-want) > 2e-14 {
			t.Fatalf("Erf(%v) = %v, want %v", x, got, want)
		}
		if y := math.Abs(x) + 1e-9; !close(Log(y), math.Log(y), 4e-16) && math.Abs(Log(y)-math.Log(y)) > 1e-16 {
			t.Fatalf("Log(%v) = %v, want %v", y, Log(y), math.Log(y))
		}
		if y := math.Abs(x); !close(Pow(y, 1.5), math.Pow(y, 1.5), 1e-14) {
			t.Fatalf("Pow(%v, 1.5) = %v, want %v", y, Pow(y, 1.5), math.Pow(y, 1.5))
		}
	}
	for _, c := range [][2]float64{{2, 3}, {-2, 3}, {0, 2}, {3, -2}} {
		if got, want := Pow(c[0], c[1]), math.Pow(c[0], c[1]); got != want {
			t.Errorf("Pow(%v) = %v, want %v", c, got, want)
		}
	}
}

// Golden bits: these must not change on any machine or architecture.
func TestGoldenBits(t *testing.T) {
	for _, c := range []struct {
		f    func(float64) float64
		x    float64
		bits uint64
	}{
		{Exp, 1, 0x4005bf0a8b145769},
		{Exp, -3.7, 0x3f99511fc6871044},
		{Log, 10, 0x40026bb1bbb55516},
		{Tanh, 0.3, 0x3fd2a4dda7d914f9},
		{Erf, 0.8, 0x3fe7bf4a85b7fb82},
	} {
		if got := math.Float64bits(c.f(c.x)); got != c.bits {
			t.Errorf("f(%v) bits %#x, want %#x", c.x, got, c.bits)
		}
	}
}
