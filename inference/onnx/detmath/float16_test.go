package detmath

import (
	"math"
	"testing"
)

func TestFloat16(t *testing.T) {
	for _, c := range []struct {
		bits uint16
		want float64
	}{
		{0x0000, 0},
		{0x0001, math.Ldexp(1, -24)}, // the smallest subnormal
		{0x03ff, 1023 * math.Ldexp(1, -24)},
		{0x0400, math.Ldexp(1, -14)}, // the smallest normal
		{0x3c00, 1},
		{0x3c01, 1 + 1.0/1024},
		{0x3555, 0.333251953125},
		{0xc000, -2},
		{0x7bff, 65504}, // the largest finite
		{0x7c00, math.Inf(1)},
		{0xfc00, math.Inf(-1)},
	} {
		if got := Float16(c.bits); got != c.want {
			t.Errorf("Float16(%#04x) = %v, want %v", c.bits, got, c.want)
		}
	}
	if got := Float16(0x8000); got != 0 || !math.Signbit(got) {
		t.Errorf("Float16(0x8000) = %v, want -0", got)
	}
	for _, h := range []uint16{0x7c01, 0x7e00, 0xfe00} {
		if got := Float16(h); !math.IsNaN(got) {
			t.Errorf("Float16(%#04x) = %v, want NaN", h, got)
		}
	}
	// Every finite normal value, against the same number widened bit by
	// bit to a float32 (binary16 fields moved into binary32's).
	for h := 0; h < 1<<16; h++ {
		exp := h >> 10 & 0x1f
		if exp == 0 || exp == 0x1f {
			continue
		}
		f32 := uint32(h&0x8000)<<16 | uint32(exp-15+127)<<23 | uint32(h&0x3ff)<<13
		if got, want := Float16(uint16(h)), float64(math.Float32frombits(f32)); got != want {
			t.Fatalf("Float16(%#04x) = %v, want %v", h, got, want)
		}
	}
}
