package main

import (
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/rawdb"

	"github.com/infergeth/infergeth/consensus/bft"
	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/params"
)

// networkParams are what a network's EVM genesis is built from. They sit
// in CometBFT's genesis (app_state.params), so every node builds the same
// genesis, and the genesis hash beside them catches a node that would not.
type networkParams struct {
	ChainID      uint64 `json:"chainId"`
	Timestamp    uint64 `json:"timestamp"`
	GasLimit     uint64 `json:"gasLimit"`
	BaseFee      uint64 `json:"baseFee"`
	Mnemonic     string `json:"mnemonic"`
	Accounts     int    `json:"accounts"`
	BalanceEther string `json:"balanceEther"`
	DemoModels   bool   `json:"demoModels"`
}

// chainConfig is the chain configuration of the network.
func (p networkParams) chainConfig() *params.ChainConfig {
	return params.DevnetConfig(p.ChainID)
}

// cometChainID is CometBFT's chain id for an EVM chain id.
func (p networkParams) cometChainID() string { return fmt.Sprintf("infergeth-%d", p.ChainID) }

// genesis is the EVM genesis: the funded accounts of the mnemonic, the
// standard predeploys, the registry with the demo models.
func (p networkParams) genesis() (core.GenesisSpec, error) {
	if p.Accounts < 0 || p.Accounts > devkeys.MaxAccounts {
		return core.GenesisSpec{}, fmt.Errorf("accounts must be in [0, %d]", devkeys.MaxAccounts)
	}
	balance, err := balanceWei(p.BalanceEther)
	if err != nil {
		return core.GenesisSpec{}, err
	}
	accounts, err := devkeys.Derive(p.Mnemonic, p.Accounts)
	if err != nil {
		return core.GenesisSpec{}, fmt.Errorf("accounts: %w", err)
	}
	funded := make([]common.Address, len(accounts))
	for i, a := range accounts {
		funded[i] = a.Address
	}
	models, err := devnetModels(nil, p.DemoModels)
	if err != nil {
		return core.GenesisSpec{}, err
	}
	return core.GenesisSpec{
		Config:     p.chainConfig(),
		Funded:     funded,
		Balance:    balance,
		GasLimit:   p.GasLimit,
		BaseFee:    new(big.Int).SetUint64(p.BaseFee),
		Timestamp:  p.Timestamp,
		Predeploys: append(core.StandardPredeploys(), inferenceGenesis(models).Predeploy()),
	}, nil
}

// genesisChain builds the genesis in memory, for its hash and roots.
func (p networkParams) genesisChain() (*core.Chain, error) {
	spec, err := p.genesis()
	if err != nil {
		return nil, err
	}
	g, err := spec.Genesis()
	if err != nil {
		return nil, err
	}
	return core.OpenChain(rawdb.NewMemoryDatabase(), spec.Config, g, false)
}

// readNetworkParams reads the parameters from a home's CometBFT genesis.
func readNetworkParams(home string) (networkParams, error) {
	var p networkParams
	doc, err := bft.LoadGenesis(bft.GenesisFile(home))
	if err != nil {
		return p, err
	}
	state, err := bft.ReadAppState(doc)
	if err != nil {
		return p, err
	}
	if err := json.Unmarshal(state.Params, &p); err != nil {
		return p, fmt.Errorf("genesis app_state.params: %w", err)
	}
	return p, nil
}

// nodeSettings are a home's node-local settings (infergeth.json): how to
// reach this node and its peers. Flags of `infergeth node` override them.
type nodeSettings struct {
	Moniker string   `json:"moniker"`
	P2PAddr string   `json:"p2pAddr"`
	Peers   []string `json:"peers"`
	// HTTPAddr serves JSON-RPC over HTTP and WebSocket.
	HTTPAddr string `json:"httpAddr"`
	// EmptyBlockInterval is how long an idle proposer waits ("1s").
	EmptyBlockInterval string `json:"emptyBlockInterval,omitempty"`
}

const settingsFile = "infergeth.json"

func readSettings(home string) (nodeSettings, error) {
	var s nodeSettings
	b, err := os.ReadFile(filepath.Join(home, settingsFile))
	if err != nil {
		return s, err
	}
	if err := json.Unmarshal(b, &s); err != nil {
		return s, fmt.Errorf("%s: %w", filepath.Join(home, settingsFile), err)
	}
	return s, nil
}

func writeSettings(home string, s nodeSettings) error {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(home, settingsFile), append(b, '\n'), 0o644)
}
