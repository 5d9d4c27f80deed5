package contracts

import (
	_ "embed"
	"encoding/json"
	"fmt"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// outputOracleArtifact is the L1 output oracle's build output, written by
// `make contracts` (node contracts/build-l1.js) from l1/L2OutputOracle.sol;
// `make contracts-check` fails when it is stale.
//
//go:embed artifacts/L2OutputOracle.json
var outputOracleArtifact []byte

// CreationArtifact is a contract deployed by a transaction: its ABI and
// creation bytecode (constructor arguments are appended).
type CreationArtifact struct {
	Contract string          `json:"contract"`
	Bytecode hexutil.Bytes   `json:"bytecode"`
	ABI      json.RawMessage `json:"abi"`
}

// OutputOracleArtifact is the L2OutputOracle contract that infergeth
// deploys on its L1 (package l1/oracle).
func OutputOracleArtifact() (*CreationArtifact, error) {
	var a CreationArtifact
	if err := json.Unmarshal(outputOracleArtifact, &a); err != nil {
		return nil, fmt.Errorf("contracts: artifacts/L2OutputOracle.json: %w", err)
	}
	if len(a.Bytecode) == 0 || len(a.ABI) == 0 {
		return nil, fmt.Errorf("contracts: artifacts/L2OutputOracle.json has no bytecode or ABI (run make contracts)")
	}
	return &a, nil
}
