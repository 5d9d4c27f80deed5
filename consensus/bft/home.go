package bft

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	cmtcfg "github.com/cometbft/cometbft/config"
	"github.com/cometbft/cometbft/p2p"
	"github.com/cometbft/cometbft/privval"
	cmttypes "github.com/cometbft/cometbft/types"
	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/core"
)

// AppState is the app_state of CometBFT's genesis: the parameters the EVM
// genesis is built from (Params, read by the command that starts the node)
// and the hash of the EVM genesis block they must give, so that a node
// whose binary or flags would build another chain refuses to start.
type AppState struct {
	Params      json.RawMessage `json:"params"`
	GenesisHash common.Hash     `json:"genesisHash"`
}

// Identity is a node's public keys, for the genesis and peers' addresses.
type Identity struct {
	NodeID    string
	Validator cmttypes.GenesisValidator
}

// InitHome creates a node's keys under home (config/node_key.json,
// config/priv_validator_key.json, data/priv_validator_state.json). It
// refuses a home that already has keys.
func InitHome(home, moniker string) (Identity, error) {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	for _, dir := range []string{filepath.Dir(c.NodeKeyFile()), filepath.Dir(c.PrivValidatorStateFile())} {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return Identity{}, err
		}
	}
	if _, err := os.Stat(c.NodeKeyFile()); err == nil {
		return Identity{}, fmt.Errorf("%s exists: refusing to overwrite a node's keys", c.NodeKeyFile())
	}
	nodeKey, err := p2p.LoadOrGenNodeKey(c.NodeKeyFile())
	if err != nil {
		return Identity{}, fmt.Errorf("node key: %w", err)
	}
	pv := privval.GenFilePV(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile())
	pv.Save()
	pub, err := pv.GetPubKey()
	if err != nil {
		return Identity{}, err
	}
	return Identity{
		NodeID:    string(nodeKey.ID()),
		Validator: cmttypes.GenesisValidator{Address: pub.Address(), PubKey: pub, Power: 10, Name: moniker},
	}, nil
}

// GenesisFile is where a home keeps CometBFT's genesis.
func GenesisFile(home string) string {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	return c.GenesisFile()
}

// NewGenesis is CometBFT's genesis for a chain whose EVM genesis is block:
// its time is the EVM genesis timestamp, its AppHash the genesis state
// root, blocks may carry a full proposal.
func NewGenesis(chainID string, genesis *core.Chain, validators []cmttypes.GenesisValidator, appState AppState) (*cmttypes.GenesisDoc, error) {
	state, err := json.Marshal(appState)
	if err != nil {
		return nil, err
	}
	params := cmttypes.DefaultConsensusParams()
	params.Block.MaxBytes = MaxProposalBytes + 1<<20
	block := genesis.Genesis()
	doc := &cmttypes.GenesisDoc{
		GenesisTime:     time.Unix(int64(block.Time()), 0).UTC(),
		ChainID:         chainID,
		InitialHeight:   1,
		ConsensusParams: params,
		Validators:      validators,
		AppHash:         block.Root().Bytes(),
		AppState:        state,
	}
	if err := doc.ValidateAndComplete(); err != nil {
		return nil, fmt.Errorf("genesis: %w", err)
	}
	return doc, nil
}

// LoadGenesis reads CometBFT's genesis file.
func LoadGenesis(path string) (*cmttypes.GenesisDoc, error) {
	doc, err := cmttypes.GenesisDocFromFile(path)
	if err != nil {
		return nil, fmt.Errorf("genesis %s: %w", path, err)
	}
	return doc, nil
}

// ReadAppState decodes a genesis's app_state.
func ReadAppState(doc *cmttypes.GenesisDoc) (AppState, error) {
	var s AppState
	if len(doc.AppState) == 0 {
		return s, errors.New("genesis has no app_state")
	}
	if err := json.Unmarshal(doc.AppState, &s); err != nil {
		return s, fmt.Errorf("genesis app_state: %w", err)
	}
	return s, nil
}

// checkGenesis refuses a chain whose EVM genesis is not the one CometBFT's
// genesis names.
func checkGenesis(doc *cmttypes.GenesisDoc, chain *core.Chain) error {
	state, err := ReadAppState(doc)
	if err != nil {
		return err
	}
	g := chain.Genesis()
	if g.Hash() != state.GenesisHash {
		return fmt.Errorf("EVM genesis %x differs from the network's %x: another binary or other genesis parameters", g.Hash(), state.GenesisHash)
	}
	if common.BytesToHash(doc.AppHash) != g.Root() {
		return fmt.Errorf("genesis app_hash %x differs from the EVM genesis state root %x", []byte(doc.AppHash), g.Root())
	}
	return nil
}

// IsGenesisValidator says whether the node whose keys are under home is in
// its genesis validator set (a validator), or not (a full node).
func IsGenesisValidator(home string) (bool, error) {
	c := cmtcfg.DefaultConfig()
	c.SetRoot(home)
	key, err := privval.LoadFilePVEmptyState(c.PrivValidatorKeyFile(), c.PrivValidatorStateFile()).GetPubKey()
	if err != nil {
		return false, fmt.Errorf("validator key: %w", err)
	}
	doc, err := LoadGenesis(GenesisFile(home))
	if err != nil {
		return false, err
	}
	for _, v := range doc.Validators {
		if v.PubKey.Equals(key) {
			return true, nil
		}
	}
	return false, nil
}
