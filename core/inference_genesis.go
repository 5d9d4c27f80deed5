package core

import (
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/contracts"
	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// InferenceGenesis is what a chain starts with for inline inference: a
// non-empty stub code at the precompile's address (so extcodesize checks
// pass), the model registry system contract, and models registered from
// the start.
type InferenceGenesis struct {
	Models []GenesisModel
	// AllowListEnabled, Admins and Registrants configure the registry's
	// allow-list of registrants.
	AllowListEnabled    bool
	Admins, Registrants []common.Address
}

// GenesisModel is a model registered at genesis.
type GenesisModel struct {
	Bytes    []byte // canonical model bytes
	Owner    common.Address
	Metadata string
}

// inferenceStubCode is the code at the precompile's address: INVALID, so a
// call before the precompile's activation time fails instead of succeeding
// silently.
var inferenceStubCode = []byte{0xFE}

// Predeploy returns the accounts of g.
func (g InferenceGenesis) Predeploy() Predeploy {
	return PredeployFunc{Label: "inference", Fn: g.alloc}
}

func (g InferenceGenesis) alloc(*params.ChainConfig) (types.GenesisAlloc, error) {
	alloc := types.GenesisAlloc{
		params.InferencePrecompileAddress: {Code: inferenceStubCode, Nonce: 1},
	}
	reg := contracts.RegistryGenesis{AllowListEnabled: g.AllowListEnabled, Admins: g.Admins, Registrants: g.Registrants}
	var slots []map[common.Hash]common.Hash
	seen := map[common.Hash]bool{}
	for i, m := range g.Models {
		accounts, storage, err := vm.GenesisModel(m.Bytes)
		if err != nil {
			return nil, fmt.Errorf("model %d: %w", i, err)
		}
		id := common.Hash(inference.ID(m.Bytes))
		if seen[id] {
			return nil, fmt.Errorf("model %d (%s) is listed twice", i, id)
		}
		seen[id] = true
		for addr, acct := range accounts {
			if prev, ok := alloc[addr]; ok && string(prev.Code) != string(acct.Code) {
				return nil, fmt.Errorf("model %d: data contract %s collides", i, addr)
			}
			alloc[addr] = acct // identical chunks shared by two models are one account
		}
		slots = append(slots, storage)
		reg.Models = append(reg.Models, contracts.GenesisModelRecord{ID: id, Owner: m.Owner, Metadata: m.Metadata})
	}
	registry, err := reg.Account(slots...)
	if err != nil {
		return nil, err
	}
	alloc[params.ModelRegistryAddress] = registry
	return alloc, nil
}
