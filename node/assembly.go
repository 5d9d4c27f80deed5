package node

import (
	"fmt"
	"log/slog"

	inferenceruntime "github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// Inference is the inference precompile and the EVM factory that installs
// it, assembled one way for every command (devnet, node), so that a devnet
// and a validator can never execute differently.
type Inference struct {
	Precompile *vm.Inference
	Factory    *vm.Factory
}

// NewInference assembles the inference precompile on the named backend
// (auto, reference, cpu, cuda), with its model cache and call log.
func NewInference(chain *params.ChainConfig, backendName string, logger *slog.Logger) (*Inference, error) {
	backend, err := inferenceruntime.Select(backendName)
	if err != nil {
		return nil, fmt.Errorf("backend: %w", err)
	}
	backend = injectFault(backend, logger)
	pre, err := vm.NewInference(chain, vm.InferenceOptions{
		Cache: inferenceruntime.NewCache(backend, params.InferenceCacheBytes, logger),
		Calls: vm.NewCallLog(256),
		Log:   logger,
	})
	if err != nil {
		return nil, err
	}
	return &Inference{Precompile: pre, Factory: vm.NewFactory(pre)}, nil
}
