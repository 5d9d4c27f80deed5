package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/tests/vectors"
)

// devnetModel is a model the devnet registers at genesis.
type devnetModel struct {
	name, description string
	raw               []byte
	model             *inference.Model
}

// stringList is a repeatable string flag.
type stringList []string

func (s *stringList) String() string     { return strings.Join(*s, ",") }
func (s *stringList) Set(v string) error { *s = append(*s, v); return nil }

// devnetModels collects the demo models (unless disabled) and the user's
// --model files, decoded and validated.
func devnetModels(files []string, demos bool) ([]devnetModel, error) {
	var out []devnetModel
	add := func(name, desc string, raw []byte) error {
		m, err := inference.Decode(raw)
		if err != nil {
			return fmt.Errorf("model %s: %w", name, err)
		}
		out = append(out, devnetModel{name: name, description: desc, raw: raw, model: m})
		return nil
	}
	if demos {
		for _, d := range vectors.Demos() {
			if err := add(d.Name, d.Description, d.Bytes); err != nil {
				return nil, err
			}
		}
		for _, e := range contracts.ExampleModels() {
			if err := add(e.Name, e.Description, e.Bytes); err != nil {
				return nil, err
			}
		}
	}
	for _, path := range files {
		_, raw, err := loadModel(path)
		if err != nil {
			return nil, fmt.Errorf("--model: %w", err)
		}
		if err := add(path, "from "+path, raw); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// inferenceGenesis registers the models at genesis.
func inferenceGenesis(models []devnetModel) core.InferenceGenesis {
	g := core.InferenceGenesis{}
	for _, m := range models {
		g.Models = append(g.Models, core.GenesisModel{Bytes: m.raw, Metadata: m.name + ": " + m.description})
	}
	return g
}

// printModels lists the genesis models, their tensors' layout and gas, and
// shows how to call one with cast.
func printModels(w io.Writer, models []devnetModel, rpcURL string) {
	if len(models) == 0 {
		return
	}
	fmt.Fprintln(w, "Models (registered at genesis; inference precompile at", params.InferencePrecompileAddress.Hex()+")")
	fmt.Fprintln(w, "==================")
	for _, m := range models {
		id := inference.ID(m.raw)
		fmt.Fprintf(w, "%-12s 0x%x\n             %s; %s\n             in: %s  out: %s (dtype[shape]@byte offset)\n",
			m.name, id[:], m.description, gasSummary(m.model.Cost().Gas()),
			inference.LayoutString(m.model.InputLayout()), inference.LayoutString(m.model.OutputLayout()))
	}
	first := models[0]
	id := inference.ID(first.raw)
	example := strings.Repeat("01", first.model.InputBytes())
	fmt.Fprintf(w, "\nTry it (foundry's cast; in the infergeth repository `make devnet` installed it):\n  %s call %s \"infer(bytes32,bytes)(bytes)\" 0x%x 0x%s --rpc-url %s\n\n",
		repoCast, params.InferencePrecompileAddress.Hex(), id[:], example, rpcURL)
}

// repoCast is foundry's cast as `make tools` (and so `make devnet`) installs
// it in the repository.
const repoCast = "tests/tools/node_modules/.bin/cast"

// gasSummary names a model's gas figures the same way everywhere (devnet,
// model import, model register): the model's own gas, from its cost, and
// what a call of infer charges, which quote() and inference_quote return.
func gasSummary(modelGas uint64) string {
	return fmt.Sprintf("infer charges %d gas (model gas %d + %d per call)", params.InferenceCallGas+modelGas, modelGas, params.InferenceCallGas)
}
