package l1

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"

	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/params"
)

// GenesisFile is the L2's chain configuration and genesis, as the node
// writes it (`devnet --l1.genesis-out`) and a verifier reads it: the L1
// carries blocks, not the genesis state, which a verifier must be given
// and checks against the oracle's L2 genesis hash.
type GenesisFile struct {
	Chain   *params.ChainConfig `json:"chain"`
	Genesis *gethcore.Genesis   `json:"genesis"`
}

// WriteGenesisFile writes chain and genesis to path.
func WriteGenesisFile(path string, chain *params.ChainConfig, genesis *gethcore.Genesis) error {
	// geth's genesis JSON requires a balance in every account; predeploys
	// leave it nil (zero). Fill it on a copy: the state is the same.
	g := *genesis
	g.Alloc = make(types.GenesisAlloc, len(genesis.Alloc))
	for addr, acct := range genesis.Alloc {
		if acct.Balance == nil {
			acct.Balance = new(big.Int)
		}
		g.Alloc[addr] = acct
	}
	enc, err := json.Marshal(GenesisFile{Chain: chain, Genesis: &g})
	if err != nil {
		return fmt.Errorf("encode L2 genesis: %w", err)
	}
	if err := os.WriteFile(path, enc, 0o644); err != nil {
		return fmt.Errorf("write L2 genesis: %w", err)
	}
	return nil
}

// ReadGenesisFile reads what WriteGenesisFile wrote.
func ReadGenesisFile(path string) (*params.ChainConfig, *gethcore.Genesis, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("read L2 genesis: %w", err)
	}
	var f GenesisFile
	if err := json.Unmarshal(raw, &f); err != nil {
		return nil, nil, fmt.Errorf("L2 genesis %s: %w", path, err)
	}
	if f.Chain == nil || f.Chain.Ethereum == nil || f.Genesis == nil {
		return nil, nil, fmt.Errorf("L2 genesis %s: no chain config or genesis", path)
	}
	if err := f.Chain.Check(); err != nil {
		return nil, nil, fmt.Errorf("L2 genesis %s: %w", path, err)
	}
	f.Genesis.Config = f.Chain.Ethereum
	return f.Chain, f.Genesis, nil
}
