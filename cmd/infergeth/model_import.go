package main

import (
	"bufio"
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/onnxpb"
	"github.com/infergeth/infergeth/inference/runtime"
)

// dimFlag collects --dim NAME=VALUE.
type dimFlag map[string]int

func (d dimFlag) String() string { return fmt.Sprint(map[string]int(d)) }

func (d dimFlag) Set(s string) error {
	name, val, ok := strings.Cut(s, "=")
	n, err := strconv.Atoi(val)
	if !ok || err != nil || name == "" {
		return fmt.Errorf("want NAME=VALUE, got %q", s)
	}
	d[name] = n
	return nil
}

func runModelImport(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("model import", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "the converted model's path (required); written only when the import succeeds")
	floatPath := fs.String("float", "", "the float ONNX model to measure the accuracy gap against (default: the model itself with its activations unquantized)")
	samplesPath := fs.String("samples", "", "sample inputs, one per line (see -h); default: random inputs over the declared ranges")
	n := fs.Int("n", 32, "how many random samples, without --samples")
	seed := fs.Uint64("seed", 1, "seed of the random samples")
	backend := fs.String("backend", "auto", "backend for the accuracy run: auto, "+strings.Join(backendNames(), ", "))
	jsonOut := fs.Bool("json", false, "print the report as JSON instead of tables")
	dims := dimFlag{}
	fs.Var(dims, "dim", "fix a symbolic input dimension, NAME=VALUE (repeatable; unlisted ones become 1)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: infergeth model import MODEL.onnx -o MODEL.bin [flags]

Converts an int8 ONNX model (QDQ or QOperator form, opsets 10-21) to
infergeth's canonical format and prints how each ONNX node was mapped,
the converted model's inputs and outputs, every adjustment made, and the
accuracy gap on sample inputs. Unsupported ops are refused with the op and
the reason; nothing is written then. docs/onnx-import.md has the details.

A samples file holds one sample per line: the values of every graph input,
in order, flattened row-major, separated by spaces or commas, optionally
preceded by "LABEL:" (the expected class). Lines starting with # are skipped.

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintf(stderr, "\nONNX ops it maps: %s\n", strings.Join(onnx.SupportedOps(), ", "))
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 || *out == "" {
		fs.Usage()
		return errUsage
	}
	if *n < 1 || *n > 100000 {
		return fmt.Errorf("-n %d: want 1 to 100000", *n)
	}
	m, err := readONNX(pos[0])
	if err != nil {
		return err
	}
	res, err := onnx.ImportModel(m, onnx.Options{Dims: dims})
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	var floatModel *onnxpb.ModelProto
	if *floatPath != "" {
		if floatModel, err = readONNX(*floatPath); err != nil {
			return err
		}
	}
	var samples []onnx.Sample
	source := fmt.Sprintf("%d random samples (seed %d)", *n, *seed)
	if *samplesPath != "" {
		if samples, err = readSamples(*samplesPath); err != nil {
			return err
		}
		for i := range samples {
			if samples[i].Inputs, err = onnx.SplitInputs(m, samples[i].Inputs[0]); err != nil {
				return fmt.Errorf("%s: sample %d: %w", *samplesPath, i+1, err)
			}
		}
		source = fmt.Sprintf("%d samples from %s", len(samples), *samplesPath)
	} else {
		samples = onnx.RandomSamples(m, res.Report, *n, *seed)
	}
	b, err := runtime.Select(*backend)
	if err != nil {
		return err
	}
	gap, err := onnx.Compare(res, m, samples, onnx.CompareOptions{Float: floatModel, Backend: b})
	if err != nil {
		return fmt.Errorf("accuracy check: %w", err)
	}
	if err := writeAtomic(*out, res.Bytes); err != nil {
		return err
	}
	id := inference.ID(res.Bytes)
	if *jsonOut {
		return printJSON(stdout, struct {
			Source string       `json:"source"`
			Output string       `json:"output"`
			ID     string       `json:"id"`
			Bytes  int          `json:"bytes"`
			Gas    uint64       `json:"gas"`
			Report *onnx.Report `json:"report"`
			Gap    *onnx.Gap    `json:"accuracy"`
		}{pos[0], *out, "0x" + hex.EncodeToString(id[:]), len(res.Bytes), res.Model.Cost().Gas(), res.Report, gap})
	}
	printImportReport(stdout, pos[0], *out, res, gap, source)
	fmt.Fprintf(stdout, "\nwrote %s: %d bytes, id 0x%x, %d nodes; %s\n", *out, len(res.Bytes), id[:], len(res.Model.Nodes), gasSummary(res.Model.Cost().Gas()))
	return nil
}

// readONNX reads and parses an ONNX file, refusing one over onnx.MaxFileBytes
// before reading it all.
func readONNX(path string) (*onnxpb.ModelProto, error) {
	raw, err := readLimited(path, onnx.MaxFileBytes)
	if err != nil {
		return nil, err
	}
	m, err := onnx.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// writeAtomic writes data to a temporary file next to path and renames it
// over path only once it is complete: path is never half-written.
func writeAtomic(path string, data []byte) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	f, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, 0o644)
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// readSamples parses a samples file (see the usage text).
func readSamples(path string) ([]onnx.Sample, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []onnx.Sample
	sc := bufio.NewScanner(io.LimitReader(f, onnx.MaxFileBytes))
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	line := 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		s := onnx.Sample{Label: -1}
		if head, rest, ok := strings.Cut(text, ":"); ok {
			l, err := strconv.Atoi(strings.TrimSpace(head))
			if err != nil {
				return nil, fmt.Errorf("%s:%d: label %q is not an integer", path, line, head)
			}
			s.Label, text = l, rest
		}
		var vals []float64
		for _, field := range strings.FieldsFunc(text, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' }) {
			v, err := strconv.ParseFloat(field, 64)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %q is not a number", path, line, field)
			}
			vals = append(vals, v)
		}
		s.Inputs = [][]float64{vals} // split per graph input by the caller
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("%s: no samples", path)
	}
	return out, nil
}

func printImportReport(w io.Writer, src, dst string, res *onnx.Result, gap *onnx.Gap, source string) {
	r := res.Report
	fmt.Fprintf(w, "%s (opset %d) → %s\n\n", src, r.Opset, dst)
	fmt.Fprintf(w, "%-4s %-32s %-26s %s\n", "#", "ONNX node", "op", "infergeth")
	for _, n := range r.Nodes {
		eng := strings.Join(n.Engine, ", ")
		if eng == "" {
			eng = "—"
		}
		if n.How != "" {
			eng += " (" + n.How + ")"
		}
		name := n.Name
		if len(name) > 32 {
			name = name[:29] + "..."
		}
		fmt.Fprintf(w, "%-4d %-32s %-26s %s\n", n.Index, name, n.OpType, eng)
	}
	printCallIO(w, r)
	if len(r.Notes) > 0 {
		fmt.Fprintln(w, "Notes:")
		for _, s := range r.Notes {
			fmt.Fprintln(w, "  - "+s)
		}
	}
	fmt.Fprintf(w, "\nAccuracy on %s, %s backend:\n", source, gap.Backend)
	fmt.Fprintf(w, "  against ONNX semantics (the quantized model in float64): %d of %d output values differ, by at most %d step(s)\n",
		gap.Differing, gap.Elements, gap.MaxStepDiff)
	if gap.FloatRef != "" {
		fmt.Fprintf(w, "  against %s: max |diff| %.4g, mean %.4g", gap.FloatRef, gap.MaxAbsDiff, gap.MeanAbsDiff)
		if gap.ArgRows > 0 {
			fmt.Fprintf(w, "; argmax agrees on %d of %d", gap.ArgAgree, gap.ArgRows)
		}
		fmt.Fprintln(w)
	}
	if gap.FloatRef == "" {
		fmt.Fprintln(w, "  against a float model: none (give --float FLOAT.onnx; a QOperator model's float graph cannot be recovered from it)")
	}
	if gap.Labeled > 0 {
		fmt.Fprintf(w, "  labels: infergeth %d/%d correct, ONNX quantized %d/%d", gap.EngineCorrect, gap.Labeled, gap.ONNXCorrect, gap.Labeled)
		if gap.FloatRef != "" {
			fmt.Fprintf(w, ", float %d/%d", gap.FloatCorrect, gap.Labeled)
		}
		fmt.Fprintln(w)
	}
}

// printCallIO lists the converted model's inputs and outputs as a call
// sees them (model import and model quantize print the same section).
func printCallIO(w io.Writer, r *onnx.Report) {
	fmt.Fprintln(w, "\nInputs (the call's bytes, in this order):")
	for _, io := range r.Inputs {
		fmt.Fprintf(w, "  %s: ONNX %s %v → %s, %d bytes%s\n", io.Name, io.ONNXType, io.Shape, io.DType, io.Bytes, quantText(io, true))
	}
	fmt.Fprintln(w, "Outputs (in this order):")
	for _, io := range r.Outputs {
		fmt.Fprintf(w, "  %s: ONNX %s %v ← %s, %d bytes%s\n", io.Name, io.ONNXType, io.Shape, io.DType, io.Bytes, quantText(io, false))
	}
}

func quantText(io onnx.IOReport, in bool) string {
	switch {
	case io.Scale == 0:
		return " (int32 indices, little-endian)"
	case io.ONNXType == "float" && in:
		return fmt.Sprintf(": q = clamp(round_half_even(x / %.6g) + %d, −128, 127)", io.Scale, io.ZeroPoint)
	case io.ONNXType == "float":
		return fmt.Sprintf(": y = %.6g · (q − %d)", io.Scale, io.ZeroPoint)
	case io.Offset != 0:
		return fmt.Sprintf(": q = ONNX uint8 value − 128 (scale %.6g, zero point %d)", io.Scale, io.ZeroPoint)
	}
	return fmt.Sprintf(" (scale %.6g, zero point %d)", io.Scale, io.ZeroPoint)
}
