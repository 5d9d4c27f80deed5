package onnx

import (
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
)

// weightSet is a weight tensor as the engine needs it: int8 values in
// [−127, 127] with zero point 0 and one real scale per output channel.
// Values keep the ONNX layout; chanAxis is the output-channel axis.
type weightSet struct {
	w        []int64
	shape    []int
	scales   []float64
	chanAxis int
	// wide: some weights (q − zero point, kept exactly) lie outside
	// [−127, 127]; only a fully connected layer takes them as they are
	// (fullyConnected splits each over copies of its input). src is what
	// narrow requantizes from for the other ops.
	wide bool
	src  *deqConst
}

// narrow returns ws with every weight in [−127, 127]: ws itself, or for
// wide weights their symmetric int8 requantization, with a note.
func (im *importer) narrow(origin string, ws *weightSet) (*weightSet, error) {
	if !ws.wide {
		return ws, nil
	}
	out, err := requantizeWeights(ws.src.reals(), ws.shape, ws.chanAxis)
	if err != nil {
		return nil, err
	}
	im.note("%s: weights %q minus their zero point leave [−127, 127]; requantized to symmetric int8 per output channel (only fully connected layers keep such weights exactly; largest change of a weight: %.3g of its channel's new scale)", origin, ws.src.q.name, maxWeightChange(ws.src, out))
	return out, nil
}

// exactWeights keeps quantized weights with zero points exactly, as
// q − zero point, per output channel (the scales are the weights').
func exactWeights(origin string, d *deqConst, chanAxis int) (*weightSet, error) {
	shape := d.q.shape
	ws := &weightSet{w: make([]int64, len(d.q.i)), shape: shape, scales: make([]float64, shape[chanAxis]), chanAxis: chanAxis, src: d}
	for c := range ws.scales {
		s := d.scales[0]
		if len(d.scales) > 1 {
			s = d.scales[c]
		}
		if !(s > 0) || math.IsInf(s, 0) {
			return nil, unsupported(origin, "weight scale %g of channel %d is not a positive finite number", s, c)
		}
		ws.scales[c] = s
	}
	for k, q := range d.q.i {
		_, z := d.param(k)
		ws.w[k] = q - z
		if ws.w[k] < -127 || ws.w[k] > 127 {
			ws.wide = true
		}
	}
	return ws, nil
}

func (ws *weightSet) channels() int { return ws.shape[ws.chanAxis] }

// channelOf returns the output channel of flat element k.
func channelOf(shape []int, axis, k int) int {
	inner := 1
	for _, s := range shape[axis+1:] {
		inner *= s
	}
	return (k / inner) % shape[axis]
}

// weights turns a weight operand into a weightSet. Quantized weights that
// already are symmetric int8 in [−127, 127] (per tensor or per output
// channel) are kept bit for bit. Otherwise the importer adjusts them and
// says so in the report:
//   - int8 with zero point 0 holding −128: those values become −127 (one
//     step each);
//   - a non-zero zero point, or uint8: kept exactly as q − zero point
//     (wide when that leaves [−127, 127]: see narrow);
//   - scales along another axis: the real weights are requantized to
//     symmetric int8 per output channel;
//   - float weights (no DequantizeLinear): quantized per output channel.
func (im *importer) weights(origin string, v *value, chanAxis int) (*weightSet, error) {
	switch v.kind {
	case kDeqConst:
		return im.quantizedWeights(origin, v.dc, chanAxis)
	case kConst:
		if !v.c.isFloat() {
			return nil, unsupported(origin, "integer weights %q without a scale (expected DequantizeLinear)", v.c.name)
		}
		reals := make([]float64, v.c.elements())
		for k := range reals {
			reals[k] = v.c.at(k)
		}
		im.note("%s: float weights %q quantized at import to symmetric int8 per output channel", origin, v.c.name)
		return requantizeWeights(reals, v.c.shape, chanAxis)
	}
	return nil, unsupported(origin, "weights must be constant (an initializer, optionally through DequantizeLinear); activation × activation products go through MatMul")
}

func (im *importer) quantizedWeights(origin string, d *deqConst, chanAxis int) (*weightSet, error) {
	shape := d.q.shape
	if chanAxis >= len(shape) {
		return nil, unsupported(origin, "weights of shape %v", shape)
	}
	if d.q.elem != onnxpb.TensorProto_INT8 && d.q.elem != onnxpb.TensorProto_UINT8 {
		return nil, unsupported(origin, "weights of type %s (int8 or uint8 expected)", d.q.elem)
	}
	channels := shape[chanAxis]
	perTensor := len(d.scales) == 1
	if !perTensor && d.axis != chanAxis {
		im.note("%s: weights %q are quantized along axis %d, not the output-channel axis %d; requantized to symmetric int8 per output channel", origin, d.q.name, d.axis, chanAxis)
		return requantizeWeights(d.reals(), shape, chanAxis)
	}
	symmetric := true
	for _, z := range d.zps {
		if z != 0 {
			symmetric = false
		}
	}
	if !symmetric {
		im.note("%s: weights %q have a non-zero zero point; kept exactly as q − zero point", origin, d.q.name)
		return exactWeights(origin, d, chanAxis)
	}
	ws := &weightSet{w: make([]int64, len(d.q.i)), shape: shape, scales: make([]float64, channels), chanAxis: chanAxis}
	for c := range ws.scales {
		if perTensor {
			ws.scales[c] = d.scales[0]
		} else {
			ws.scales[c] = d.scales[c]
		}
		if !(ws.scales[c] > 0) || math.IsInf(ws.scales[c], 0) {
			return nil, unsupported(origin, "weight scale %g of channel %d is not a positive finite number", ws.scales[c], c)
		}
	}
	clamped := 0
	for k, q := range d.q.i {
		if q == -128 {
			q = -127
			clamped++
		}
		if q < -127 || q > 127 {
			// uint8 weights with zero point 0 hold values above 127.
			im.note("%s: uint8 weights %q kept exactly", origin, d.q.name)
			return exactWeights(origin, d, chanAxis)
		}
		ws.w[k] = q
	}
	if clamped > 0 {
		im.note("%s: %d of %d weights of %q were −128; set to −127 (the engine's weights lie in [−127, 127]; each moves by one step)", origin, clamped, len(d.q.i), d.q.name)
	}
	return ws, nil
}

// requantizeWeights quantizes real weights to symmetric int8 per channel.
func requantizeWeights(reals []float64, shape []int, chanAxis int) (*weightSet, error) {
	channels := shape[chanAxis]
	ws := &weightSet{w: make([]int64, len(reals)), shape: shape, scales: make([]float64, channels), chanAxis: chanAxis}
	peak := make([]float64, channels)
	for k, r := range reals {
		if math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("%w: weight %d is %g", ErrUnsupported, k, r)
		}
		c := channelOf(shape, chanAxis, k)
		peak[c] = math.Max(peak[c], math.Abs(r))
	}
	for c := range ws.scales {
		ws.scales[c] = peak[c] / 127
		if ws.scales[c] == 0 {
			ws.scales[c] = 1
		}
	}
	for k, r := range reals {
		c := channelOf(shape, chanAxis, k)
		ws.w[k] = int64(math.Max(-127, math.Min(127, roundEven(r/ws.scales[c]))))
	}
	return ws, nil
}

func maxWeightChange(d *deqConst, ws *weightSet) float64 {
	worst := 0.0
	for k := range ws.w {
		c := channelOf(ws.shape, ws.chanAxis, k)
		diff := math.Abs(d.real(k)-float64(ws.w[k])*ws.scales[c]) / ws.scales[c]
		worst = math.Max(worst, diff)
	}
	return worst
}

// biasValues reads an optional bias operand as real values per channel.
// exact, when not nil, holds the bias as integers with scales bscale: a
// quantized int32 bias whose scale matches the accumulator's is used as is.
func (im *importer) biasValues(origin string, v *value, channels int) (real []float64, exact []int64, bscale []float64, err error) {
	if v == nil {
		return nil, nil, nil, nil
	}
	switch v.kind {
	case kDeqConst:
		d := v.dc
		if d.q.elements() != channels && d.q.elements() != 1 {
			return nil, nil, nil, unsupported(origin, "bias has %d elements for %d channels", d.q.elements(), channels)
		}
		real = make([]float64, channels)
		exact = make([]int64, channels)
		bscale = make([]float64, channels)
		for c := 0; c < channels; c++ {
			k := c
			if d.q.elements() == 1 {
				k = 0
			}
			s, z := d.param(k)
			real[c] = d.real(k)
			if z != 0 {
				exact = nil
			}
			if exact != nil {
				exact[c] = d.q.i[k]
				bscale[c] = s
			}
		}
		if exact == nil {
			bscale = nil
		}
		return real, exact, bscale, nil
	case kConst:
		c := v.c
		if c.elements() != channels && c.elements() != 1 {
			return nil, nil, nil, unsupported(origin, "bias has %d elements for %d channels", c.elements(), channels)
		}
		real = make([]float64, channels)
		for i := range real {
			if c.elements() == 1 {
				real[i] = c.at(0)
			} else {
				real[i] = c.at(i)
			}
		}
		return real, nil, nil, nil
	}
	return nil, nil, nil, unsupported(origin, "bias must be constant")
}
