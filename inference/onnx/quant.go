package onnx

import (
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
)

// This file turns real-valued scales into the engine's integers. It is the
// only place float64 meets the model: offline, at import time. The model
// the importer writes holds integers only.

// Multiplier is a positive real number r as the engine's fixed-point pair:
// r ≈ M / 2^S with M in [1, 2^31−1] and S in [0, MaxShift].
type Multiplier struct {
	M int32
	S uint32
}

// Real is the value the pair stands for.
func (m Multiplier) Real() float64 { return math.Ldexp(float64(m.M), -int(m.S)) }

// QuantizeMultiplier returns the pair closest to r with M as large as the
// range allows (M in [2^30, 2^31) unless S would pass MaxShift), so the
// relative error is below 2^−30 for every r in [2^−32, 2^31).
func QuantizeMultiplier(r float64) (Multiplier, error) {
	if !(r > 0) || math.IsInf(r, 0) {
		return Multiplier{}, fmt.Errorf("scale ratio %g is not a positive finite number", r)
	}
	frac, exp := math.Frexp(r) // r = frac·2^exp, frac in [0.5, 1)
	m := math.RoundToEven(frac * (1 << 31))
	if m == 1<<31 {
		m /= 2
		exp++
	}
	s := 31 - exp
	if s < 0 {
		return Multiplier{}, fmt.Errorf("scale ratio %g is too large (at most 2^31−1)", r)
	}
	for s > params.MaxShift {
		m = math.RoundToEven(m / 2)
		s--
	}
	if m < 1 {
		return Multiplier{}, fmt.Errorf("scale ratio %g is too small (below 2^−%d)", r, params.MaxShift+1)
	}
	return Multiplier{M: int32(m), S: uint32(s)}, nil
}

// twoMultipliers expresses two ratios over one shift (the engine's Add):
// ra ≈ Ma/2^S, rb ≈ Mb/2^S with both M in [1, 2^31−1] and S as large as fits.
func twoMultipliers(ra, rb float64) (int32, int32, uint32, error) {
	if !(ra > 0) || !(rb > 0) || math.IsInf(ra, 0) || math.IsInf(rb, 0) {
		return 0, 0, 0, fmt.Errorf("scale ratios %g, %g are not positive finite numbers", ra, rb)
	}
	big := math.Max(ra, rb)
	_, exp := math.Frexp(big) // big < 2^exp
	s := 31 - exp
	if s < 0 {
		return 0, 0, 0, fmt.Errorf("scale ratio %g is too large", big)
	}
	if s > params.MaxShift {
		s = params.MaxShift
	}
	for ; s >= 0; s-- {
		ma, mb := math.RoundToEven(math.Ldexp(ra, s)), math.RoundToEven(math.Ldexp(rb, s))
		if ma <= math.MaxInt32 && mb <= math.MaxInt32 {
			return int32(max(ma, 1)), int32(max(mb, 1)), uint32(s), nil
		}
	}
	return 0, 0, 0, fmt.Errorf("scale ratio %g is too large", big)
}

// roundEven rounds half to even, as ONNX QuantizeLinear does.
func roundEven(v float64) float64 { return math.RoundToEven(v) }

// quantizeValue is ONNX QuantizeLinear for one value into [lo, hi].
func quantizeValue(v, scale float64, zp int64, lo, hi int64) int64 {
	q := roundEven(v/scale) + float64(zp)
	if math.IsNaN(q) {
		return zp
	}
	return int64(math.Max(float64(lo), math.Min(float64(hi), q)))
}

// qparams is the quantization of an engine tensor: real = scale·(q − zp).
type qparams struct {
	scale float64
	zp    int32
	dtype inference.DType
	// uint8: the ONNX tensor is uint8; the engine holds q − 128 as int8
	// with zero point zp (already shifted). Only matters for reports and
	// for the model's inputs and outputs.
	uint8 bool
}

// clampRange turns a real interval (from a fused Relu or Clip) into the
// output's integer bounds, exactly as ONNX would quantize the clipped value:
// QuantizeLinear is monotone, so quantize(clip(v, lo, hi)) equals
// clamp(quantize(v), quantize(lo), quantize(hi)).
func clampRange(p qparams, lo, hi float64) (int32, int32) {
	qmin, qmax := p.dtype.Min(), p.dtype.Max()
	if !math.IsInf(lo, -1) {
		qmin = quantizeValue(lo, p.scale, int64(p.zp), qmin, qmax)
	}
	if !math.IsInf(hi, 1) {
		qmax = quantizeValue(hi, p.scale, int64(p.zp), qmin, qmax)
	}
	return int32(qmin), int32(qmax)
}
