// Command ortcheck runs the project's test models (tests/models) through
// infergeth and onnxruntime-node on the same inputs and prints the output
// agreement as a markdown table:
//
//   - infergeth is identical across runs and across every backend this
//     machine has (in process, and through `infergeth model import` and
//     `infergeth model run --backend NAME` when -bin is given);
//   - where onnxruntime's float requantization differs from infergeth's
//     integer one: how many output values, and by how many steps; both
//     are also compared with the exact ONNX semantics (the importer's
//     float64 reference evaluator), which says whose rounding moved.
//
// It exits non-zero when infergeth disagrees with itself or when the
// difference from onnxruntime exceeds the tolerance (-maxsteps, -maxfrac).
// make test-onnx runs it; tests/bench/sections/30-onnxruntime.sh prints it.
package main

import (
	"bytes"
	"encoding/hex"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/tests/models/ortrun"
	"github.com/infergeth/infergeth/tests/models/zoo"
)

func main() {
	dir := flag.String("dir", "tests/models", "the test models' folder")
	node := flag.String("node", "node", "node binary")
	bin := flag.String("bin", "", "infergeth binary: also check `model import` and `model run --backend NAME` through the CLI")
	n := flag.Int("n", 100, "samples per model")
	maxSteps := flag.Int64("maxsteps", 4, "largest tolerated difference from onnxruntime, in output steps")
	maxFrac := flag.Float64("maxfrac", 0.05, "largest tolerated fraction of output values differing from onnxruntime")
	flag.Parse()
	if err := check(*dir, *node, *bin, *n, *maxSteps, *maxFrac); err != nil {
		fmt.Fprintln(os.Stderr, "ortcheck:", err)
		os.Exit(1)
	}
}

type row struct {
	file, form, inputs          string
	samples, values             int
	backends                    []string
	cli                         bool
	ortDiff, ourExact, ortExact int
	ortMax, ourMax, ortExactMax int64
	argAgree, argRows           int
	ourRight, ortRight, labeled int
	version                     string
}

func check(dir, node, bin string, n int, maxSteps int64, maxFrac float64) error {
	manifest, err := zoo.ReadManifest(dir)
	if err != nil {
		return err
	}
	var rows []row
	var failures []string
	for _, meta := range manifest {
		for _, random := range []bool{false, true} {
			r, err := checkModel(dir, node, bin, meta, n, random)
			if err != nil {
				return fmt.Errorf("%s: %w", meta.File, err)
			}
			rows = append(rows, r)
			if r.ortMax > maxSteps || float64(r.ortDiff) > maxFrac*float64(r.values) {
				failures = append(failures, fmt.Sprintf("%s (%s): %d of %d values differ from onnxruntime, by up to %d steps (tolerance %d steps, %.0f%%)",
					r.file, r.inputs, r.ortDiff, r.values, r.ortMax, maxSteps, 100*maxFrac))
			}
		}
	}
	printTable(rows)
	if len(failures) > 0 {
		return fmt.Errorf("%s", strings.Join(failures, "; "))
	}
	return nil
}

// samplesFor draws the inputs: held-out digits for the classifiers, N(0, 1)
// embeddings for the transformer block; or uniformly random int8 inputs,
// which push activations over their whole ranges.
func samplesFor(meta zoo.Model, m *onnxpb.ModelProto, rep *onnx.Report, n int, random bool) []onnx.Sample {
	if random {
		return onnx.RandomSamples(m, rep, n, 505)
	}
	var xs [][]float64
	var ys []int
	if meta.Classifier {
		xs, ys = zoo.TestSet()
		xs, ys = xs[:n], ys[:n]
	} else {
		xs = zoo.BlockSamples(n, 404)
	}
	out := make([]onnx.Sample, len(xs))
	for i, x := range xs {
		out[i] = onnx.Sample{Inputs: [][]float64{x}, Label: -1}
		if ys != nil {
			out[i].Label = ys[i]
		}
	}
	return out
}

func checkModel(dir, node, bin string, meta zoo.Model, n int, random bool) (row, error) {
	r := row{file: meta.File, form: meta.Form, inputs: "test set"}
	if random {
		r.inputs = "random int8"
	} else if !meta.Classifier {
		r.inputs = "N(0, 1)"
	}
	path := filepath.Join(dir, meta.File)
	raw, err := os.ReadFile(path)
	if err != nil {
		return r, err
	}
	m, err := onnx.Parse(raw)
	if err != nil {
		return r, err
	}
	res, err := onnx.ImportModel(m, onnx.Options{})
	if err != nil {
		return r, err
	}
	rep := res.Report
	samples := samplesFor(meta, m, rep, n, random)
	r.samples = len(samples)
	// Give onnxruntime exactly the values infergeth's int8 input stands
	// for, so both start from the same integers.
	inputs := make([][]byte, len(samples))
	ortIn := make([][]float64, len(samples))
	for i, s := range samples {
		if inputs[i], err = rep.EncodeInput(s); err != nil {
			return r, err
		}
		ortIn[i] = ortrun.Dequantize(rep.Inputs[0], inputs[i])
	}
	// infergeth: every backend, twice.
	var want [][]byte
	for bi, b := range runtime.Backends() {
		r.backends = append(r.backends, b.Name())
		prog, err := b.Prepare(res.Model)
		if err != nil {
			return r, err
		}
		for round := 0; round < 2; round++ {
			for i, in := range inputs {
				out, err := prog.Run(in)
				if err != nil {
					return r, err
				}
				if bi == 0 && round == 0 {
					want = append(want, out)
				} else if !bytes.Equal(out, want[i]) {
					return r, fmt.Errorf("backend %s (round %d) differs from %s on sample %d", b.Name(), round, r.backends[0], i)
				}
			}
		}
	}
	if bin != "" && !random {
		if err := checkCLI(bin, path, inputs[:min(3, len(inputs))], want); err != nil {
			return r, err
		}
		r.cli = true
	}
	// onnxruntime.
	ortOut, version, err := ortrun.Run(node, path, ortIn)
	if err != nil {
		return r, err
	}
	r.version = version
	// The exact ONNX semantics.
	ev, err := onnx.NewEvaluator(m)
	if err != nil {
		return r, err
	}
	out := rep.Outputs[0]
	for i := range samples {
		ours, _, err := rep.DecodeOutput(want[i])
		if err != nil {
			return r, err
		}
		exact, err := evalFirst(ev, ortIn[i])
		if err != nil {
			return r, err
		}
		if len(ortOut[i]) != len(ours[0]) {
			return r, fmt.Errorf("onnxruntime gave %d values, infergeth %d", len(ortOut[i]), len(ours[0]))
		}
		for k, q := range ours[0] {
			o, e := ortrun.Step(out, ortOut[i][k]), ortrun.Step(out, exact[k])
			r.values++
			if d := ortrun.Abs(q - o); d != 0 {
				r.ortDiff++
				r.ortMax = max(r.ortMax, d)
			}
			if d := ortrun.Abs(q - e); d != 0 {
				r.ourExact++
				r.ourMax = max(r.ourMax, d)
			}
			if d := ortrun.Abs(o - e); d != 0 {
				r.ortExact++
				r.ortExactMax = max(r.ortExactMax, d)
			}
		}
		if meta.Classifier {
			a, b := ortrun.Argmax(ortOut[i]), ortrun.Argmax(ours[0])
			r.argRows++
			if a == b {
				r.argAgree++
			}
			if samples[i].Label < 0 {
				continue
			}
			r.labeled++
			if b == samples[i].Label {
				r.ourRight++
			}
			if a == samples[i].Label {
				r.ortRight++
			}
		}
	}
	return r, nil
}

// evalFirst evaluates the exact ONNX semantics of a one-input model (every
// test model has one input, "x") and returns its first output.
func evalFirst(ev *onnx.Evaluator, x []float64) ([]float64, error) {
	out, err := ev.Run(map[string]*onnx.Tensor{"x": {Elem: onnxpb.TensorProto_FLOAT, Shape: ev.InputShape(0), Data: x}})
	if err != nil {
		return nil, err
	}
	return out[0].Data, nil
}

// checkCLI converts the model with `infergeth model import` and runs it
// with `infergeth model run --backend NAME` for every backend the binary
// lists: each must print the in-process output.
func checkCLI(bin, model string, inputs, want [][]byte) error {
	tmp, err := os.MkdirTemp("", "ortcheck")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	out := filepath.Join(tmp, "model.bin")
	if b, err := exec.Command(bin, "model", "import", model, "-o", out, "-n", "2").CombinedOutput(); err != nil {
		return fmt.Errorf("infergeth model import: %v\n%s", err, b)
	}
	list, err := exec.Command(bin, "model", "backends").Output()
	if err != nil {
		return fmt.Errorf("infergeth model backends: %v", err)
	}
	for _, backend := range strings.Fields(string(list)) {
		for i, in := range inputs {
			got, err := exec.Command(bin, "model", "run", out, "--backend", backend, "--input", hex.EncodeToString(in)).Output()
			if err != nil {
				return fmt.Errorf("infergeth model run --backend %s: %v", backend, err)
			}
			if strings.TrimSpace(string(got)) != hex.EncodeToString(want[i]) {
				return fmt.Errorf("infergeth model run --backend %s printed %s, want %x", backend, strings.TrimSpace(string(got)), want[i])
			}
		}
	}
	return nil
}

func pct(a, b int) string {
	if b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(a)/float64(b))
}

func printTable(rows []row) {
	version := ""
	if len(rows) > 0 {
		version = rows[0].version
	}
	fmt.Printf("Output agreement on the same int8 inputs (onnxruntime-node %s, CPU EP, 1 thread). Steps are the output's quantization steps.\n\n", version)
	fmt.Println("| model | form | inputs | samples × values | infergeth identical (runs × backends) | ≠ onnxruntime | max diff | infergeth ≠ exact ONNX | onnxruntime ≠ exact ONNX | argmax agrees | accuracy infergeth / onnxruntime |")
	fmt.Println("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
	for _, r := range rows {
		ident := fmt.Sprintf("yes: 2 × %s", strings.Join(r.backends, ", "))
		if r.cli {
			ident += " (+ CLI)"
		}
		arg, acc := "—", "—"
		if r.argRows > 0 {
			arg = fmt.Sprintf("%d/%d", r.argAgree, r.argRows)
		}
		if r.labeled > 0 {
			acc = fmt.Sprintf("%d/%d / %d/%d", r.ourRight, r.labeled, r.ortRight, r.labeled)
		}
		fmt.Printf("| %s | %s | %s | %d × %d | %s | %d (%s) | %d | %d (max %d) | %d (max %d) | %s | %s |\n",
			r.file, r.form, r.inputs, r.samples, r.values/max(1, r.samples), ident, r.ortDiff, pct(r.ortDiff, r.values), r.ortMax,
			r.ourExact, r.ourMax, r.ortExact, r.ortExactMax, arg, acc)
	}
}
