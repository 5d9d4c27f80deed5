// Command quantcheck runs `infergeth model quantize` end to end on the
// project's float test models (tests/models/zoo: the MLP, the CNN, the
// keyword spotter with a written-out normalization, the transformer
// block) and judges it with onnxruntime-node:
//
//   - the float model is written as ONNX, the calibration, held-out and
//     label sets as .npy files, and the CLI quantizes it (--onnx-out,
//     --eval, --labels, --json); the CLI's model equals the in-process
//     quantization byte for byte;
//   - onnxruntime runs the QDQ export on the very int8 inputs infergeth
//     runs: on the MLP and the CNN every output byte must be equal; on the
//     others the differences are counted (as ortcheck does for imports);
//   - onnxruntime runs the float model: infergeth's quantized top-1
//     accuracy must be within 1 point of it on every classifier.
//
// It prints the results as a markdown table (docs/onnx-import.md quotes
// it) and exits non-zero on any failure. make test-onnx runs it.
package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/npy"
	"github.com/infergeth/infergeth/inference/onnx/quantize"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/tests/models/ortrun"
	"github.com/infergeth/infergeth/tests/models/zoo"
	"google.golang.org/protobuf/proto"
)

// exact lists the models whose QDQ export onnxruntime must run to the same bytes.
var exact = map[string]bool{"mlp": true, "cnn": true}

func main() {
	node := flag.String("node", "node", "node binary")
	bin := flag.String("bin", "build/bin/infergeth", "infergeth binary")
	maxSteps := flag.Int64("maxsteps", 4, "largest tolerated difference from onnxruntime on the other models, in output steps")
	maxFrac := flag.Float64("maxfrac", 0.05, "largest tolerated fraction of differing output values on the other models")
	keep := flag.String("keep", "", "write the float models, sample files and quantized models into this folder and keep them")
	flag.Parse()
	if err := run(*node, *bin, *keep, *maxSteps, *maxFrac); err != nil {
		fmt.Fprintln(os.Stderr, "quantcheck:", err)
		os.Exit(1)
	}
}

type row struct {
	name                       string
	samples, values            int
	ortDiff                    int
	ortMax                     int64
	floatORT, floatEval, quant int
	labeled                    int
	agree, rows                int
	maxAbs, meanAbs            float64
	nodes                      int
	gas                        uint64
	version                    string
}

func run(node, bin, keep string, maxSteps int64, maxFrac float64) error {
	tmp := keep
	if tmp == "" {
		var err error
		if tmp, err = os.MkdirTemp("", "quantcheck"); err != nil {
			return err
		}
		defer os.RemoveAll(tmp)
	}
	var rows []row
	var failures []string
	for _, fm := range zoo.FloatModels(func(f string, a ...any) { fmt.Fprintf(os.Stderr, "quantcheck: "+f+"\n", a...) }) {
		r, fails, err := check(node, bin, tmp, fm, maxSteps, maxFrac)
		if err != nil {
			return fmt.Errorf("%s: %w", fm.Name, err)
		}
		rows = append(rows, r)
		failures = append(failures, fails...)
	}
	printTable(rows)
	if len(failures) > 0 {
		return fmt.Errorf("%s", strings.Join(failures, "; "))
	}
	return nil
}

func writeNPY(path string, shape []int, xs [][]float64) error {
	var vals []float32
	for _, x := range xs {
		for _, v := range x {
			vals = append(vals, float32(v))
		}
	}
	var buf bytes.Buffer
	if err := npy.Write(&buf, append([]int{len(xs)}, shape[1:]...), vals); err != nil {
		return err
	}
	return os.WriteFile(path, buf.Bytes(), 0o644)
}

func check(node, bin, tmp string, fm zoo.FloatModel, maxSteps int64, maxFrac float64) (row, []string, error) {
	r := row{name: fm.Name}
	var fails []string
	dir := filepath.Join(tmp, fm.Name)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return r, nil, err
	}
	floatPath := filepath.Join(dir, "float.onnx")
	raw, err := proto.MarshalOptions{Deterministic: true}.Marshal(fm.Model)
	if err != nil {
		return r, nil, err
	}
	if err := os.WriteFile(floatPath, raw, 0o644); err != nil {
		return r, nil, err
	}
	calib, eval := filepath.Join(dir, "calib.npy"), filepath.Join(dir, "eval.npy")
	if err := writeNPY(calib, fm.Shape, fm.Calib); err != nil {
		return r, nil, err
	}
	if err := writeNPY(eval, fm.Shape, fm.Test); err != nil {
		return r, nil, err
	}
	args := []string{"model", "quantize", floatPath, "--calibration", calib, "-o", filepath.Join(dir, "model.bin"),
		"--onnx-out", filepath.Join(dir, "qdq.onnx"), "--eval", eval, "--activations", fm.Activations, "--json"}
	if fm.Labels != nil {
		labels := make([]int64, len(fm.Labels))
		for i, l := range fm.Labels {
			labels[i] = int64(l)
		}
		var buf bytes.Buffer
		if err := npy.WriteInt64(&buf, labels); err != nil {
			return r, nil, err
		}
		lp := filepath.Join(dir, "labels.npy")
		if err := os.WriteFile(lp, buf.Bytes(), 0o644); err != nil {
			return r, nil, err
		}
		args = append(args, "--labels", lp)
	}
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return r, nil, fmt.Errorf("%s %s: %v\n%s", bin, strings.Join(args, " "), err, stderr.String())
	}
	var rep struct {
		ID       string
		Accuracy *quantize.Accuracy
	}
	if err := json.Unmarshal(out, &rep); err != nil || rep.Accuracy == nil {
		return r, nil, fmt.Errorf("the CLI's JSON: %v", err)
	}
	// The CLI's bytes are the in-process quantization's.
	samples := make([]onnx.Sample, len(fm.Calib))
	for i, x := range fm.Calib {
		samples[i] = onnx.Sample{Inputs: [][]float64{x}, Label: -1}
	}
	res, err := quantize.Quantize(fm.Model, samples, quantize.Options{Activations: fm.Activations})
	if err != nil {
		return r, nil, err
	}
	cliModel, err := os.ReadFile(filepath.Join(dir, "model.bin"))
	if err != nil {
		return r, nil, err
	}
	cliQDQ, err := os.ReadFile(filepath.Join(dir, "qdq.onnx"))
	if err != nil {
		return r, nil, err
	}
	if !bytes.Equal(cliModel, res.Import.Bytes) || !bytes.Equal(cliQDQ, res.QDQBytes) {
		fails = append(fails, fm.Name+": the CLI's model or QDQ export differs from the in-process quantization")
	}
	m, err := inference.Decode(cliModel)
	if err != nil {
		return r, nil, err
	}
	r.nodes, r.gas = len(m.Nodes), m.Cost().Gas()
	acc := rep.Accuracy
	r.labeled, r.quant, r.floatEval = acc.Labeled, acc.QuantCorrect, acc.FloatCorrect
	r.agree, r.rows, r.maxAbs, r.meanAbs = acc.Outputs[0].Top1Agree, acc.Outputs[0].Rows, acc.Outputs[0].MaxAbs, acc.Outputs[0].MeanAbs

	// infergeth on the held-out samples, and the int8 values its input
	// stands for, which onnxruntime gets.
	b, err := runtime.Select("auto")
	if err != nil {
		return r, nil, err
	}
	prog, err := b.Prepare(m)
	if err != nil {
		return r, nil, err
	}
	ioIn, ioOut := res.Import.Report.Inputs[0], res.Import.Report.Outputs[0]
	ortIn := make([][]float64, len(fm.Test))
	ours := make([][]int64, len(fm.Test))
	for i, x := range fm.Test {
		in, err := res.Import.Report.EncodeInput(onnx.Sample{Inputs: [][]float64{x}})
		if err != nil {
			return r, nil, err
		}
		ortIn[i] = ortrun.Dequantize(ioIn, in)
		outb, err := prog.Run(in)
		if err != nil {
			return r, nil, err
		}
		ints, _, err := res.Import.Report.DecodeOutput(outb)
		if err != nil {
			return r, nil, err
		}
		ours[i] = ints[0]
	}
	qdqOut, version, err := ortrun.Run(node, filepath.Join(dir, "qdq.onnx"), ortIn)
	if err != nil {
		return r, nil, err
	}
	r.version, r.samples = version, len(fm.Test)
	for i := range ours {
		if len(qdqOut[i]) != len(ours[i]) {
			return r, nil, fmt.Errorf("onnxruntime gave %d values, infergeth %d", len(qdqOut[i]), len(ours[i]))
		}
		for k, q := range ours[i] {
			o := ortrun.Step(ioOut, qdqOut[i][k])
			r.values++
			if d := ortrun.Abs(q - o); d != 0 {
				r.ortDiff++
				r.ortMax = max(r.ortMax, d)
			}
		}
	}
	switch {
	case exact[fm.Name] && r.ortDiff != 0:
		fails = append(fails, fmt.Sprintf("%s: %d of %d output values differ from onnxruntime on the QDQ export (max %d steps); want 0", fm.Name, r.ortDiff, r.values, r.ortMax))
	case r.ortMax > maxSteps || float64(r.ortDiff) > maxFrac*float64(r.values):
		fails = append(fails, fmt.Sprintf("%s: %d of %d output values differ from onnxruntime on the QDQ export, by up to %d steps", fm.Name, r.ortDiff, r.values, r.ortMax))
	}
	if fm.Labels != nil {
		floatOut, _, err := ortrun.Run(node, floatPath, fm.Test)
		if err != nil {
			return r, nil, err
		}
		for i, o := range floatOut {
			if ortrun.Argmax(o) == fm.Labels[i] {
				r.floatORT++
			}
		}
		if d := math.Abs(float64(r.quant-r.floatORT)) / float64(r.labeled); d > 0.01 {
			fails = append(fails, fmt.Sprintf("%s: quantized top-1 %d/%d vs float %d/%d in onnxruntime: more than 1 point apart", fm.Name, r.quant, r.labeled, r.floatORT, r.labeled))
		}
	}
	return r, fails, nil
}

func pct(a, b int) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f%%", 100*float64(a)/float64(b))
}

func printTable(rows []row) {
	version := ""
	if len(rows) > 0 {
		version = rows[0].version
	}
	fmt.Printf("`infergeth model quantize` (MinMax, 256 calibration samples) on the held-out samples; onnxruntime-node %s, CPU EP, 1 thread.\n\n", version)
	fmt.Println("| model | engine nodes | gas | float top-1 (onnxruntime) | quantized top-1 (infergeth) | change | top-1 agreement with float | max / mean abs error (logits) | QDQ export in onnxruntime ≠ infergeth |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		fl, qu, ch := "—", "—", "—"
		if r.labeled > 0 {
			fl, qu = pct(r.floatORT, r.labeled), pct(r.quant, r.labeled)
			ch = fmt.Sprintf("%+.1f", 100*float64(r.quant-r.floatORT)/float64(r.labeled))
		}
		fmt.Printf("| %s | %d | %d | %s | %s | %s | %d/%d | %.3g / %.3g | %d of %d values (max %d steps) |\n",
			r.name, r.nodes, r.gas, fl, qu, ch, r.agree, r.rows, r.maxAbs, r.meanAbs, r.ortDiff, r.values, r.ortMax)
	}
}
