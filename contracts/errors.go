package contracts

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"

	"github.com/ethereum/go-ethereum/accounts/abi"
)

// errorsArtifact is the ABI of every custom error of the precompile, the
// registry and the SDK's codec, written by `make contracts` (node
// contracts/build.js) from src/IInference.sol, src/IModelRegistry.sol and
// src/TensorCodec.sol; `make contracts-check` fails when it is stale. The SDK
// ships the same file to ethers and viem users.
//
//go:embed artifacts/InferenceErrors.json
var errorsArtifact []byte

// errorsABI parses the artifact once; the result is never written after.
var errorsABI = sync.OnceValues(func() (*abi.ABI, error) {
	parsed, err := abi.JSON(strings.NewReader(string(errorsArtifact)))
	if err != nil {
		return nil, fmt.Errorf("contracts: artifacts/InferenceErrors.json: %w", err)
	}
	return &parsed, nil
})

// ErrorsABI returns the custom errors of the precompile, the registry and
// the SDK's codec as an ABI (only its Errors are set).
func ErrorsABI() (*abi.ABI, error) { return errorsABI() }
