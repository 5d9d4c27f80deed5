package quantize

import (
	"fmt"
	"math"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx"
)

// Accuracy compares the quantized model, run by an engine backend, with
// the float model on held-aside samples.
type Accuracy struct {
	Samples int    `json:"samples"`
	Backend string `json:"backend"`
	// FloatRef names the float reference.
	FloatRef string            `json:"floatReference"`
	Outputs  []OutputAgreement `json:"outputs"`
	// With labels (Sample.Label ≥ 0, first output's argmax): how many
	// samples each model gets right.
	Labeled      int `json:"labeled"`
	FloatCorrect int `json:"floatCorrect"`
	QuantCorrect int `json:"quantizedCorrect"`
}

// OutputAgreement is one output's error in real units and its top-1
// agreement (argmax over the last axis, rows of at least 2 classes).
type OutputAgreement struct {
	Name      string  `json:"name"`
	MaxAbs    float64 `json:"maxAbsError"`
	MeanAbs   float64 `json:"meanAbsError"`
	Rows      int     `json:"rows"`
	Top1Agree int     `json:"top1Agree"`
	values    int
}

// FloatAccuracy and QuantAccuracy are the labelled accuracies (0 without labels).
func (a *Accuracy) FloatAccuracy() float64 { return ratio(a.FloatCorrect, a.Labeled) }
func (a *Accuracy) QuantAccuracy() float64 { return ratio(a.QuantCorrect, a.Labeled) }

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Evaluate runs res's converted model on backend and its prepared float
// model in the float64 reference evaluator on samples, and compares them.
func Evaluate(res *Result, samples []onnx.Sample, backend inference.Backend) (*Accuracy, error) {
	prog, err := backend.Prepare(res.Import.Model)
	if err != nil {
		return nil, err
	}
	ev, err := onnx.NewEvaluator(res.Float)
	if err != nil {
		return nil, err
	}
	rep := res.Import.Report
	acc := &Accuracy{Samples: len(samples), Backend: backend.Name(), FloatRef: "the float model in infergeth's float64 ONNX evaluator"}
	for _, o := range rep.Outputs {
		acc.Outputs = append(acc.Outputs, OutputAgreement{Name: o.Name})
	}
	sums := make([]float64, len(rep.Outputs))
	for i, s := range samples {
		in, err := rep.EncodeInput(s)
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", i+1, err)
		}
		out, err := prog.Run(in)
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", i+1, err)
		}
		_, reals, err := rep.DecodeOutput(out)
		if err != nil {
			return nil, err
		}
		fin, err := evalInputs(res.Float, s)
		if err != nil {
			return nil, fmt.Errorf("sample %d: %w", i+1, err)
		}
		want, err := ev.Run(fin)
		if err != nil {
			return nil, fmt.Errorf("sample %d: float model: %w", i+1, err)
		}
		for o := range rep.Outputs {
			a := &acc.Outputs[o]
			f := want[o].Data
			if len(f) != len(reals[o]) {
				return nil, fmt.Errorf("output %q: %d values, the float model's %d", a.Name, len(reals[o]), len(f))
			}
			for k, v := range reals[o] {
				d := math.Abs(v - f[k])
				a.MaxAbs = math.Max(a.MaxAbs, d)
				sums[o] += d
				a.values++
			}
			qa, fa := argmaxRows(reals[o], rep.Outputs[o].Shape), argmaxRows(f, rep.Outputs[o].Shape)
			for r := range qa {
				a.Rows++
				if qa[r] == fa[r] {
					a.Top1Agree++
				}
			}
			if o == 0 && s.Label >= 0 && len(qa) == 1 {
				acc.Labeled++
				if qa[0] == s.Label {
					acc.QuantCorrect++
				}
				if fa[0] == s.Label {
					acc.FloatCorrect++
				}
			}
		}
	}
	for o := range acc.Outputs {
		if n := acc.Outputs[o].values; n > 0 {
			acc.Outputs[o].MeanAbs = sums[o] / float64(n)
		}
	}
	return acc, nil
}

// argmaxRows is the argmax of each row of the last axis (ties to the
// lowest index); nil when the last axis has fewer than 2 entries.
func argmaxRows(v []float64, shape []int) []int {
	if len(shape) == 0 || shape[len(shape)-1] < 2 {
		return nil
	}
	n := shape[len(shape)-1]
	var out []int
	for r := 0; r+n <= len(v); r += n {
		best := 0
		for j := 1; j < n; j++ {
			if v[r+j] > v[r+best] {
				best = j
			}
		}
		out = append(out, best)
	}
	return out
}
