package quantize

import (
	"fmt"
	"math"
	"sort"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// Method is how an activation's range is chosen from calibration data.
type Method string

const (
	// MinMax takes the smallest and largest value seen.
	MinMax Method = "minmax"
	// Percentile clips each tail of the values seen at a percentile
	// (Options.Percentile), from a histogram with integer counts.
	Percentile Method = "percentile"
)

// histogramBins is the resolution of the percentile histogram.
const histogramBins = 2048

// Range is one activation's calibrated range, in real units.
type Range struct {
	Name string  `json:"name"`
	Lo   float64 `json:"lo"`
	Hi   float64 `json:"hi"`
	// Seen is the range of the calibration values (equal to Lo, Hi for MinMax).
	SeenLo float64 `json:"seenLo"`
	SeenHi float64 `json:"seenHi"`
}

// calibrator runs the float model over the samples and keeps, per float
// value named in track, its minimum and maximum, and for Percentile a
// histogram over that range (a second pass). Everything is computed one
// sample at a time in a fixed order, in float64 by the reference
// evaluator (no FMA contraction, detmath for exp/tanh/erf), so the ranges
// are the same bits on every machine.
type calibrator struct {
	ev       *onnx.Evaluator
	m        *onnxpb.ModelProto
	track    []string // sorted
	progress func(stage string, done, total int)
}

func (c *calibrator) each(samples []onnx.Sample, stage string, f func(name string, t *onnx.Tensor)) error {
	for i, s := range samples {
		in, err := evalInputs(c.m, s)
		if err != nil {
			return fmt.Errorf("calibration sample %d: %w", i+1, err)
		}
		vals, err := c.ev.Values(in)
		if err != nil {
			return fmt.Errorf("calibration sample %d: %w", i+1, err)
		}
		for _, name := range c.track {
			if t := vals[name]; t != nil {
				f(name, t)
			}
		}
		if c.progress != nil {
			c.progress(stage, i+1, len(samples))
		}
	}
	return nil
}

func (c *calibrator) ranges(samples []onnx.Sample, method Method, pct float64) (map[string]Range, error) {
	out := map[string]Range{}
	for _, name := range c.track {
		out[name] = Range{Name: name, SeenLo: math.Inf(1), SeenHi: math.Inf(-1)}
	}
	err := c.each(samples, "calibrating", func(name string, t *onnx.Tensor) {
		r := out[name]
		for _, v := range t.Data {
			if v < r.SeenLo {
				r.SeenLo = v
			}
			if v > r.SeenHi {
				r.SeenHi = v
			}
		}
		out[name] = r
	})
	if err != nil {
		return nil, err
	}
	for name, r := range out {
		if r.SeenLo > r.SeenHi { // never computed (unused)
			r.SeenLo, r.SeenHi = 0, 0
		}
		r.Lo, r.Hi = r.SeenLo, r.SeenHi
		out[name] = r
	}
	if method != Percentile {
		return out, nil
	}
	hist := map[string][]uint64{}
	for _, name := range c.track {
		hist[name] = make([]uint64, histogramBins)
	}
	err = c.each(samples, "histograms", func(name string, t *onnx.Tensor) {
		r, h := out[name], hist[name]
		for _, v := range t.Data {
			h[bin(v, r.SeenLo, r.SeenHi)]++
		}
	})
	if err != nil {
		return nil, err
	}
	for name, r := range out {
		h := hist[name]
		var total uint64
		for _, n := range h {
			total += n
		}
		// Each tail may hold at most this many values outside the range.
		cut := uint64(math.Floor(float64(total) * (100 - pct) / 100))
		lo, hi := 0, histogramBins-1
		for acc := uint64(0); lo < hi && acc+h[lo] <= cut; lo++ {
			acc += h[lo]
		}
		for acc := uint64(0); hi > lo && acc+h[hi] <= cut; hi-- {
			acc += h[hi]
		}
		// Explicit float64 conversions round each product before the sum:
		// no fused multiply-add on any CPU, the same bits everywhere.
		w := (r.SeenHi - r.SeenLo) / histogramBins
		r.Lo = r.SeenLo + float64(float64(lo)*w)
		r.Hi = r.SeenLo + float64(float64(hi+1)*w)
		if hi == histogramBins-1 {
			r.Hi = r.SeenHi
		}
		if lo == 0 {
			r.Lo = r.SeenLo
		}
		out[name] = r
	}
	return out, nil
}

// bin places v in one of histogramBins equal bins over [lo, hi].
func bin(v, lo, hi float64) int {
	if !(hi > lo) {
		return 0
	}
	b := int((v - lo) / (hi - lo) * histogramBins)
	return min(max(b, 0), histogramBins-1)
}

// sortedRanges lists ranges by name.
func sortedRanges(m map[string]Range) []Range {
	out := make([]Range, 0, len(m))
	for _, r := range m {
		out = append(out, r)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
