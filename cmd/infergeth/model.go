package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/runtime"
)

// modelCommands are the `infergeth model` subcommands.
func modelCommands() map[string]command {
	return map[string]command{
		"inspect":  {"print a model's ID, sizes, cost, gas and ops as JSON", runModelInspect},
		"run":      {"run a model on one input and print the output as hex", runModelRun},
		"backends": {"list the backends this machine can run, the one auto picks first", runModelBackends},
		"import":   {"convert an int8 ONNX model (QDQ or QOperator) to infergeth's format", runModelImport},
		"quantize": {"quantize a float ONNX model to an int8 infergeth model, calibrated on sample data", runModelQuantize},
		"register": {"upload a model to a chain's model registry and print its ID", runModelRegister},
	}
}

func runModel(args []string, stdout, stderr io.Writer) error {
	return dispatch("model", modelCommands(), args, stdout, stderr)
}

// loadModel reads and decodes a model file.
func loadModel(path string) (*inference.Model, []byte, error) {
	raw, err := readLimited(path, inference.MaxFileBytes)
	if err != nil {
		return nil, nil, err
	}
	m, err := inference.Decode(raw)
	if err != nil {
		return nil, nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, raw, nil
}

// readLimited reads a file, refusing one larger than limit before reading it all.
func readLimited(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, limit+1))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if int64(len(data)) > limit {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, limit)
	}
	return data, nil
}

func runModelInspect(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("model inspect", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: infergeth model inspect FILE\n\nPrints JSON: id (keccak256 of the bytes), sizes, inputs, outputs,\nfreshness requirements, cost (macs, elementOps, bytesTouched), gas and ops.")
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	m, raw, err := loadModel(pos[0])
	if err != nil {
		return err
	}
	return printJSON(stdout, describeModel(m, raw))
}

// printJSON prints v as indented JSON, as every --json of the model commands does.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

type tensorJSON struct {
	Tensor    int    `json:"tensor"`
	DType     string `json:"dtype"`
	Shape     []int  `json:"shape"`
	ZeroPoint int32  `json:"zeroPoint"`
	Bytes     int    `json:"bytes"`
	// Offset is where an input or output tensor starts in the call's bytes
	// (inference.TensorLayout); absent for the ops' tensors.
	Offset *int `json:"offset,omitempty"`
}

type opJSON struct {
	Op      string          `json:"op"`
	Inputs  []int           `json:"inputs"`
	Output  int             `json:"output"`
	Attrs   inference.Attrs `json:"attrs"`
	MACs    uint64          `json:"macs,omitempty"`
	OutDesc tensorJSON      `json:"outputTensor"`
}

type modelJSON struct {
	ID                  string                `json:"id"`
	Bytes               int                   `json:"bytes"`
	FormatVersion       int                   `json:"formatVersion"`
	Opset               int                   `json:"opset"`
	InputBytes          int                   `json:"inputBytes"`
	OutputBytes         int                   `json:"outputBytes"`
	Inputs              []tensorJSON          `json:"inputs"`
	Outputs             []tensorJSON          `json:"outputs"`
	Freshness           []inference.Freshness `json:"freshness"`
	MACs                uint64                `json:"macs"`
	ElementOps          uint64                `json:"elementOps"`
	BytesTouched        uint64                `json:"bytesTouched"`
	PeakActivationBytes uint64                `json:"peakActivationBytes"`
	Gas                 uint64                `json:"gas"`
	Tensors             int                   `json:"tensors"`
	ConstantBytes       int                   `json:"constantBytes"`
	Ops                 []opJSON              `json:"ops"`
}

func describeModel(m *inference.Model, raw []byte) modelJSON {
	id := inference.ID(raw)
	c := m.Cost()
	tj := func(t int) tensorJSON {
		tt := &m.Tensors[t]
		return tensorJSON{Tensor: t, DType: tt.DType.String(), Shape: tt.Shape, ZeroPoint: tt.ZeroPoint, Bytes: tt.Bytes()}
	}
	out := modelJSON{
		ID: "0x" + hex.EncodeToString(id[:]), Bytes: len(raw),
		FormatVersion: 1, Opset: 1,
		InputBytes: m.InputBytes(), OutputBytes: m.OutputBytes(),
		Freshness: m.Freshness, MACs: c.MACs, ElementOps: c.ElementOps, BytesTouched: c.BytesTouched,
		PeakActivationBytes: c.PeakActivationBytes, Gas: c.Gas(), Tensors: len(m.Tensors),
	}
	if out.Freshness == nil {
		out.Freshness = []inference.Freshness{}
	}
	withOffsets := func(tensors []int, layout []inference.TensorLayout) []tensorJSON {
		var list []tensorJSON
		for i, t := range tensors {
			j := tj(t)
			j.Offset = &layout[i].Offset
			list = append(list, j)
		}
		return list
	}
	out.Inputs = withOffsets(m.Inputs, m.InputLayout())
	out.Outputs = withOffsets(m.Outputs, m.OutputLayout())
	for i := range m.Tensors {
		if m.Tensors[i].Kind == inference.Constant {
			out.ConstantBytes += len(m.Tensors[i].Data)
		}
	}
	for i := range m.Nodes {
		n := &m.Nodes[i]
		out.Ops = append(out.Ops, opJSON{Op: n.Op.String(), Inputs: n.Inputs, Output: n.Output, Attrs: n.Attrs,
			MACs: m.NodeMACs(i), OutDesc: tj(n.Output)})
	}
	return out
}

func runModelRun(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("model run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	input := fs.String("input", "", "the input as hex (0x optional), @FILE to read hex from a file, or - for stdin")
	backend := fs.String("backend", "auto", "backend: auto (the fastest here), "+strings.Join(backendNames(), ", "))
	fs.Usage = func() {
		fmt.Fprintln(stderr, "Usage: infergeth model run FILE --input HEX [--backend NAME]\n\nRuns the model once and prints the output bytes as hex on one line.\nThe input is the graph inputs' bytes concatenated (little-endian), exactly\ninputBytes long (see `infergeth model inspect`).\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if err != nil {
		return errUsage
	}
	if len(pos) != 1 {
		fs.Usage()
		return errUsage
	}
	m, _, err := loadModel(pos[0])
	if err != nil {
		return err
	}
	in, err := readHexArg(*input, m.InputBytes())
	if err != nil {
		return err
	}
	b, err := runtime.Select(*backend)
	if err != nil {
		return err
	}
	prog, err := b.Prepare(m)
	if err != nil {
		return fmt.Errorf("%s backend: %w", b.Name(), err)
	}
	out, err := prog.Run(in)
	if err != nil {
		return err
	}
	fmt.Fprintln(stdout, hex.EncodeToString(out))
	return nil
}

func runModelBackends(args []string, stdout, stderr io.Writer) error {
	if len(args) != 0 {
		fmt.Fprintln(stderr, "Usage: infergeth model backends")
		return errUsage
	}
	for _, name := range backendNames() {
		fmt.Fprintln(stdout, name)
	}
	return nil
}

func backendNames() []string {
	var names []string
	for _, b := range runtime.Backends() {
		names = append(names, b.Name())
	}
	return names
}

// readHexArg decodes --input: hex, @FILE or - (stdin). want is the model's
// input length; hex longer than twice that is refused before decoding.
func readHexArg(arg string, want int) ([]byte, error) {
	text := arg
	limit := int64(2*want + 64)
	switch {
	case arg == "":
		if want != 0 {
			return nil, fmt.Errorf("--input is required: the model takes %d bytes", want)
		}
	case arg == "-":
		data, err := io.ReadAll(io.LimitReader(os.Stdin, limit+1))
		if err != nil {
			return nil, fmt.Errorf("reading stdin: %w", err)
		}
		text = string(data)
	case strings.HasPrefix(arg, "@"):
		data, err := readLimited(arg[1:], limit)
		if err != nil {
			return nil, fmt.Errorf("--input: %w (the model takes %d bytes)", err, want)
		}
		text = string(data)
	}
	text = strings.TrimPrefix(strings.TrimPrefix(strings.TrimSpace(text), "0x"), "0X")
	b, err := hex.DecodeString(text)
	if err != nil {
		return nil, fmt.Errorf("--input is not hex: %w", err)
	}
	if len(b) != want {
		return nil, fmt.Errorf("%w", errors.Join(inference.BadInput("input is %d bytes; the model takes %d", len(b), want)))
	}
	return b, nil
}
