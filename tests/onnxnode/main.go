// Command onnxnode runs ONNX's own backend node tests (Debian's
// libonnx-testdata: a one-node model, its inputs and expected outputs per
// case) through infergeth, as an external judge of the importer and the
// quantizer:
//
//   - integer ops (QuantizeLinear, DequantizeLinear, QLinearMatMul,
//     QLinearConv, MatMulInteger, ConvInteger): `model import`, run on
//     every backend, must give the expected values exactly;
//   - float ops the quantizer maps: `model quantize` calibrated on the
//     test's own input; ONNX's tolerance (1e-3 relative) is below what int8
//     can meet, so the judge is the quantized output's own step: the case
//     passes when no value is more than 2 output steps from the expected
//     one;
//   - every other case is listed as refused, with the reason.
//
// Inputs after the first are bound as constants (weights, scales, zero
// points, shapes, axes): op set v1 computes on one activation per input.
// It prints a markdown table and a per-case list, and exits non-zero when
// an integer case fails. make test-onnx runs it on the pinned package.
package main

import (
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/inference/onnx/quantize"
	"github.com/infergeth/infergeth/inference/runtime"
	"google.golang.org/protobuf/proto"
)

// integerOps are judged exactly.
var integerOps = map[string]bool{"QuantizeLinear": true, "DequantizeLinear": true, "QLinearMatMul": true,
	"QLinearConv": true, "MatMulInteger": true, "ConvInteger": true}

// expectedRefusals are the integer cases op set v1 cannot express, with
// what the refusal must say.
var expectedRefusals = map[string]string{
	"test_quantizelinear_axis":   "activations are quantized per tensor",
	"test_dequantizelinear_axis": "activations are quantized per tensor",
}

type result struct {
	name, op, kind, outcome, detail string
	pass                            bool
}

func main() {
	dir := flag.String("dir", "build/onnx-testdata/usr/share/libonnx-testdata/data/node", "the node tests' folder")
	list := flag.Bool("list", false, "print every case, not only the summary")
	flag.Parse()
	if err := run(*dir, *list); err != nil {
		fmt.Fprintln(os.Stderr, "onnxnode:", err)
		os.Exit(1)
	}
}

func run(dir string, list bool) error {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return fmt.Errorf("%w (make test-onnx installs libonnx-testdata)", err)
	}
	var results []result
	for _, e := range ents {
		if !e.IsDir() || !strings.HasPrefix(e.Name(), "test_") {
			continue
		}
		results = append(results, runCase(filepath.Join(dir, e.Name()), e.Name()))
	}
	if len(results) == 0 {
		return fmt.Errorf("no node tests in %s", dir)
	}
	return report(results, list)
}

func readTensor(path string) (*onnxpb.TensorProto, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	t := new(onnxpb.TensorProto)
	if err := proto.Unmarshal(raw, t); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return t, nil
}

func runCase(path, name string) (r result) {
	r.name = name
	defer func() {
		if p := recover(); p != nil { // a panic is a bug to report, not a crash of the judge
			r.outcome, r.detail, r.pass = "failed", fmt.Sprintf("panic: %v", p), false
		}
	}()
	raw, err := os.ReadFile(filepath.Join(path, "model.onnx"))
	if err != nil {
		r.outcome, r.detail = "unreadable", err.Error()
		return r
	}
	m, err := onnx.Parse(raw)
	if err != nil {
		r.outcome, r.detail = "refused", err.Error()
		return r
	}
	if len(m.Graph.Node) > 0 {
		r.op = onnx.OpName(m.Graph.Node[0])
	}
	if len(m.Graph.Node) != 1 {
		r.kind, r.outcome, r.detail = "composite", "refused", fmt.Sprintf("%d nodes (an expanded function test)", len(m.Graph.Node))
		return r
	}
	r.kind = "float"
	if integerOps[r.op] {
		r.kind = "integer"
	}
	if !onnx.Maps(r.op) {
		r.outcome, r.detail = "refused", onnx.RefusalReason(r.op)
		return r
	}
	set := filepath.Join(path, "test_data_set_0")
	var ins, outs []*onnxpb.TensorProto
	for i := 0; ; i++ {
		t, err := readTensor(filepath.Join(set, fmt.Sprintf("input_%d.pb", i)))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			r.outcome, r.detail = "unreadable", err.Error()
			return r
		}
		ins = append(ins, t)
	}
	for i := 0; ; i++ {
		t, err := readTensor(filepath.Join(set, fmt.Sprintf("output_%d.pb", i)))
		if errors.Is(err, os.ErrNotExist) {
			break
		}
		if err != nil {
			r.outcome, r.detail = "unreadable", err.Error()
			return r
		}
		outs = append(outs, t)
	}
	if len(ins) == 0 || len(outs) == 0 {
		r.outcome, r.detail = "refused", "a case without inputs or outputs"
		return r
	}
	// Bind every input after the first as a constant.
	var inputs []*onnxpb.ValueInfoProto
	for i, vi := range m.Graph.Input {
		if i == 0 || i >= len(ins) {
			inputs = append(inputs, vi)
			continue
		}
		c := proto.Clone(ins[i]).(*onnxpb.TensorProto)
		c.Name = vi.Name
		m.Graph.Initializer = append(m.Graph.Initializer, c)
	}
	m.Graph.Input = inputs
	if len(m.Graph.Output) > 1 {
		m.Graph.Output = m.Graph.Output[:1] // the engine model's first output is judged
	}
	x, err := onnx.DecodeTensor(ins[0])
	if err != nil {
		r.outcome, r.detail = "unreadable", err.Error()
		return r
	}
	want, err := onnx.DecodeTensor(outs[0])
	if err != nil {
		r.outcome, r.detail = "unreadable", err.Error()
		return r
	}
	sample := onnx.Sample{Inputs: [][]float64{x.Data}, Label: -1}
	if r.kind == "integer" {
		return judgeInteger(r, m, sample, want)
	}
	return judgeFloat(r, m, sample, want)
}

func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	return s
}

// runAll runs res on every backend and returns the first output's
// integers and reals, refusing backends that disagree.
func runAll(res *onnx.Result, s onnx.Sample) ([]int64, []float64, error) {
	in, err := res.Report.EncodeInput(s)
	if err != nil {
		return nil, nil, err
	}
	var first []byte
	for _, b := range runtime.Backends() {
		prog, err := b.Prepare(res.Model)
		if err != nil {
			return nil, nil, err
		}
		out, err := prog.Run(in)
		if err != nil {
			return nil, nil, err
		}
		if first == nil {
			first = out
		} else if string(out) != string(first) {
			return nil, nil, fmt.Errorf("backend %s differs from the first", b.Name())
		}
	}
	ints, reals, err := res.Report.DecodeOutput(first)
	if err != nil {
		return nil, nil, err
	}
	return ints[0], reals[0], nil
}

func judgeInteger(r result, m *onnxpb.ModelProto, s onnx.Sample, want *onnx.Tensor) result {
	res, err := onnx.ImportModel(m, onnx.Options{})
	if err != nil {
		r.outcome, r.detail = "refused", firstLine(err)
		return r
	}
	ints, reals, err := runAll(res, s)
	if err != nil {
		r.outcome, r.detail = "failed", err.Error()
		return r
	}
	if len(ints) != len(want.Data) {
		r.outcome, r.detail = "failed", fmt.Sprintf("%d values, expected %d", len(ints), len(want.Data))
		return r
	}
	out := res.Report.Outputs[0]
	differ, worst := 0, 0.0
	for k, w := range want.Data {
		var got float64
		if want.Elem == onnxpb.TensorProto_FLOAT {
			got = float64(float32(reals[k]))
		} else {
			got = float64(ints[k] - int64(out.Offset))
		}
		if got != w {
			differ++
			worst = math.Max(worst, math.Abs(got-w))
		}
	}
	r.pass = differ == 0
	r.outcome = "exact"
	r.detail = fmt.Sprintf("%d values", len(want.Data))
	if !r.pass {
		r.outcome, r.detail = "failed", fmt.Sprintf("%d of %d values differ (by up to %g)", differ, len(want.Data), worst)
	}
	return r
}

func judgeFloat(r result, m *onnxpb.ModelProto, s onnx.Sample, want *onnx.Tensor) result {
	if want.Elem != onnxpb.TensorProto_FLOAT {
		r.outcome, r.detail = "refused", fmt.Sprintf("a %s output: the quantizer quantizes float outputs", want.Elem)
		return r
	}
	res, err := quantize.Quantize(m, []onnx.Sample{s}, quantize.Options{Activations: "int8"})
	if err != nil {
		r.outcome, r.detail = "refused", firstLine(err)
		return r
	}
	_, reals, err := runAll(res.Import, s)
	if err != nil {
		r.outcome, r.detail = "failed", err.Error()
		return r
	}
	if len(reals) != len(want.Data) {
		r.outcome, r.detail = "failed", fmt.Sprintf("%d values, expected %d", len(reals), len(want.Data))
		return r
	}
	step := res.Import.Report.Outputs[0].Scale
	worst := 0.0
	for k, w := range want.Data {
		worst = math.Max(worst, math.Abs(reals[k]-w))
	}
	steps := worst / step
	r.pass = steps <= 2
	r.outcome = "within 2 steps"
	if !r.pass {
		r.outcome = "beyond 2 steps"
	}
	r.detail = fmt.Sprintf("max |error| %.3g = %.2f output steps", worst, steps)
	return r
}

func report(results []result, list bool) error {
	type key struct{ kind, outcome string }
	counts := map[key]int{}
	var failed []string
	for _, r := range results {
		counts[key{r.kind, r.outcome}]++
		if r.kind == "integer" && !r.pass {
			if want, ok := expectedRefusals[r.name]; ok && r.outcome == "refused" && strings.Contains(r.detail, want) {
				continue
			}
			failed = append(failed, r.name+": "+r.outcome+": "+r.detail)
		}
	}
	var keys []key
	for k := range counts {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].kind != keys[j].kind {
			return keys[i].kind < keys[j].kind
		}
		return keys[i].outcome < keys[j].outcome
	})
	fmt.Printf("ONNX backend node tests (libonnx-testdata): %d cases\n\n| kind | outcome | cases |\n| --- | --- | --- |\n", len(results))
	for _, k := range keys {
		kind := k.kind
		if kind == "" {
			kind = "(unparsed)"
		}
		fmt.Printf("| %s | %s | %d |\n", kind, k.outcome, counts[k])
	}
	fmt.Println()
	for _, r := range results {
		if list || r.kind == "integer" || (r.kind == "float" && r.outcome != "refused") {
			fmt.Printf("- %s (%s, %s): %s; %s\n", r.name, r.op, r.kind, r.outcome, r.detail)
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("%d integer case(s) not exact:\n  %s", len(failed), strings.Join(failed, "\n  "))
	}
	return nil
}
