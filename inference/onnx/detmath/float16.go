package detmath

import "math"

// Float16 returns the value of IEEE 754 binary16 bits, exactly (every
// binary16 value is a float64). ONNX FLOAT16 tensors and NumPy '<f2'
// arrays both decode through it. A NaN comes back as math.NaN().
func Float16(h uint16) float64 {
	sign := 1.0
	if h&0x8000 != 0 {
		sign = -1
	}
	exp := int(h>>10) & 0x1f
	frac := float64(h & 0x3ff)
	switch exp {
	case 0: // zero and subnormals: frac · 2^−24
		return sign * math.Ldexp(frac, -24)
	case 0x1f:
		if frac == 0 {
			return sign * math.Inf(1)
		}
		return math.NaN()
	}
	return sign * math.Ldexp(1024+frac, exp-25) // (1 + frac/1024) · 2^(exp−15)
}
