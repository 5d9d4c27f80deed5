package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/onnx"
	"github.com/infergeth/infergeth/inference/onnx/quantize"
	"github.com/infergeth/infergeth/inference/runtime"
)

func runModelQuantize(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("model quantize", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "", "the quantized model's path (required); written only when everything succeeds")
	calib := fs.String("calibration", "", "calibration samples (required): .npy, .npz (one array per input name) or raw little-endian float32")
	onnxOut := fs.String("onnx-out", "", "also write the equivalent QDQ ONNX model here (runs in onnxruntime)")
	method := fs.String("method", "minmax", "activation ranges: minmax or percentile")
	pct := fs.Float64("percentile", 99.99, "with --method percentile: the share of values kept inside the range on each tail")
	acts := fs.String("activations", "uint8", "ONNX type of the QDQ model's activations: uint8 (as onnxruntime's quantize_static) or int8")
	evalPath := fs.String("eval", "", "held-aside samples for the accuracy report (same formats as --calibration)")
	labelsPath := fs.String("labels", "", "with --eval: one class per sample (.npy of integers, or one per line)")
	backend := fs.String("backend", "auto", "backend for the accuracy run: auto, "+strings.Join(backendNames(), ", "))
	progress := fs.Bool("progress", false, "draw the progress bar on stderr even when it is not a terminal")
	jsonOut := fs.Bool("json", false, "print the report as JSON")
	dims := dimFlag{}
	fs.Var(dims, "dim", "fix a symbolic input dimension, NAME=VALUE (repeatable; unlisted ones become 1)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `Usage: infergeth model quantize MODEL.onnx --calibration DATA -o MODEL.bin [flags]

Quantizes a float ONNX model (opsets 13-21) to an int8 infergeth model:
weights int8 symmetric per output channel, biases int32, activations per
tensor with ranges from the calibration samples (min/max or a percentile),
every scale turned into a fixed-point multiplier and shift. The same model
and data give the same bytes on every machine. Nodes op set v1 cannot
express are all listed, with the reason; nothing is written then.
docs/onnx-import.md ("From a float model") has the details.

Sample files: an .npy array whose first axis counts samples (e.g. [N, 1,
28, 28] for an input [1, 1, 28, 28]), an .npz with one such array per
input name, or raw little-endian float32 values, samples back to back.

Flags:
`)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 || *out == "" || *calib == "" {
		fs.Usage()
		return errUsage
	}
	if *labelsPath != "" && *evalPath == "" {
		return fmt.Errorf("--labels needs --eval")
	}
	m, err := readONNX(pos[0])
	if err != nil {
		return err
	}
	samples, err := quantize.LoadSamples(*calib, m, dims)
	if err != nil {
		return fmt.Errorf("--calibration: %w", err)
	}
	var evalSamples []onnx.Sample
	if *evalPath != "" {
		if evalSamples, err = quantize.LoadSamples(*evalPath, m, dims); err != nil {
			return fmt.Errorf("--eval: %w", err)
		}
		if *labelsPath != "" {
			labels, err := quantize.LoadLabels(*labelsPath)
			if err != nil {
				return fmt.Errorf("--labels: %w", err)
			}
			if len(labels) != len(evalSamples) {
				return fmt.Errorf("--labels: %d labels for %d samples", len(labels), len(evalSamples))
			}
			for i := range evalSamples {
				evalSamples[i].Label = labels[i]
			}
		}
	}
	opts := quantize.Options{Method: quantize.Method(*method), Percentile: *pct, Activations: *acts, Dims: dims}
	bar := newProgressBar(stderr, *progress)
	opts.Progress = bar.update
	res, err := quantize.Quantize(m, samples, opts)
	bar.done()
	if err != nil {
		return fmt.Errorf("%s: %w", pos[0], err)
	}
	var acc *quantize.Accuracy
	if evalSamples != nil {
		b, err := runtime.Select(*backend)
		if err != nil {
			return err
		}
		if acc, err = quantize.Evaluate(res, evalSamples, b); err != nil {
			return fmt.Errorf("accuracy report: %w", err)
		}
	}
	if *onnxOut != "" {
		if err := writeAtomic(*onnxOut, res.QDQBytes); err != nil {
			return err
		}
	}
	if err := writeAtomic(*out, res.Import.Bytes); err != nil {
		return err
	}
	id := inference.ID(res.Import.Bytes)
	model := res.Import.Model
	if *jsonOut {
		return printJSON(stdout, struct {
			Source      string             `json:"source"`
			Output      string             `json:"output"`
			ONNXOut     string             `json:"onnxOut,omitempty"`
			ID          string             `json:"id"`
			Bytes       int                `json:"bytes"`
			Gas         uint64             `json:"gas"`
			Method      quantize.Method    `json:"method"`
			Calibration int                `json:"calibrationSamples"`
			Notes       []string           `json:"notes"`
			Ranges      []quantize.Range   `json:"ranges"`
			Report      *onnx.Report       `json:"report"`
			Accuracy    *quantize.Accuracy `json:"accuracy,omitempty"`
		}{pos[0], *out, *onnxOut, "0x" + hex.EncodeToString(id[:]), len(res.Import.Bytes), model.Cost().Gas(),
			res.Method, res.Samples, res.Notes, res.Ranges, res.Import.Report, acc})
	}
	fmt.Fprintf(stdout, "%s → %s: calibrated on %d samples (%s)\n", pos[0], *out, res.Samples, res.Method)
	for _, n := range res.Notes {
		fmt.Fprintln(stdout, "  - "+n)
	}
	printCallIO(stdout, res.Import.Report)
	if acc != nil {
		printAccuracy(stdout, acc)
	}
	if *onnxOut != "" {
		fmt.Fprintf(stdout, "\nwrote %s: the QDQ ONNX model, %d bytes\n", *onnxOut, len(res.QDQBytes))
	}
	fmt.Fprintf(stdout, "wrote %s: %d bytes, id 0x%x, %d nodes; %s\n", *out, len(res.Import.Bytes), id[:], len(model.Nodes), gasSummary(model.Cost().Gas()))
	return nil
}

func printAccuracy(w io.Writer, a *quantize.Accuracy) {
	fmt.Fprintf(w, "\nAccuracy on %d held-aside samples (%s backend) against %s:\n", a.Samples, a.Backend, a.FloatRef)
	fmt.Fprintf(w, "  %-20s %14s %14s %s\n", "output", "max |error|", "mean |error|", "top-1 agreement")
	for _, o := range a.Outputs {
		agree := "—"
		if o.Rows > 0 {
			agree = fmt.Sprintf("%d/%d (%.2f%%)", o.Top1Agree, o.Rows, 100*float64(o.Top1Agree)/float64(o.Rows))
		}
		fmt.Fprintf(w, "  %-20s %14.5g %14.5g %s\n", o.Name, o.MaxAbs, o.MeanAbs, agree)
	}
	if a.Labeled > 0 {
		fmt.Fprintf(w, "  top-1 accuracy on %d labels: float %.2f%%, quantized %.2f%% (%+.2f points)\n", a.Labeled,
			100*a.FloatAccuracy(), 100*a.QuantAccuracy(), 100*(a.QuantAccuracy()-a.FloatAccuracy()))
	}
}

// progressBar draws calibration progress on stderr: only on a terminal,
// or when forced (--progress).
type progressBar struct {
	w     io.Writer
	on    bool
	drawn bool
	last  int
}

func newProgressBar(w io.Writer, force bool) *progressBar {
	on := force
	if f, ok := w.(*os.File); ok && !on {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progressBar{w: w, on: on, last: -1}
}

func (p *progressBar) update(stage string, done, total int) {
	if !p.on || total == 0 {
		return
	}
	const width = 30
	filled := done * width / total
	if filled == p.last && done != total {
		return
	}
	p.last = filled
	p.drawn = true
	fmt.Fprintf(p.w, "\r%-12s [%s%s] %d/%d", stage, strings.Repeat("#", filled), strings.Repeat(" ", width-filled), done, total)
	if done == total {
		p.last = -1
	}
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
	}
}
