//go:build faultinject

package node

import (
	"log/slog"
	"os"

	"github.com/infergeth/infergeth/inference"
)

// FaultEnv, set to 1 in the environment of a binary built with
// -tags faultinject, makes every inference result of that node wrong (the
// first output byte flipped): the cluster tests' stand-in for a validator
// whose hardware computes a different answer.
const FaultEnv = "INFERGETH_FAULT_INFERENCE"

func injectFault(b inference.Backend, log *slog.Logger) inference.Backend {
	if os.Getenv(FaultEnv) != "1" {
		return b
	}
	log.Warn("FAULT INJECTION: this node's inference results are deliberately wrong", "env", FaultEnv)
	return wrongBackend{b}
}

type wrongBackend struct{ inference.Backend }

func (w wrongBackend) Prepare(m *inference.Model) (inference.Program, error) {
	p, err := w.Backend.Prepare(m)
	if err != nil {
		return nil, err
	}
	return wrongProgram{p}, nil
}

type wrongProgram struct{ inference.Program }

func (w wrongProgram) Run(input []byte) ([]byte, error) {
	out, err := w.Program.Run(input)
	if err == nil && len(out) > 0 {
		out = append([]byte(nil), out...)
		out[0] ^= 0x5a
	}
	return out, err
}
