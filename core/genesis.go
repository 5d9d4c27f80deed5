package core

import (
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"

	"github.com/infergeth/infergeth/params"
)

// GenesisSpec says what a new chain starts with.
type GenesisSpec struct {
	Config *params.ChainConfig
	// Funded accounts, each given Balance wei.
	Funded  []common.Address
	Balance *big.Int
	// GasLimit and BaseFee of the genesis block; later blocks keep the gas
	// limit and move the base fee by EIP-1559.
	GasLimit uint64
	BaseFee  *big.Int
	// Timestamp of the genesis block.
	Timestamp uint64
	// Predeploys add contracts; StandardPredeploys() is what every chain has.
	Predeploys []Predeploy
}

// Genesis builds geth's genesis description from the spec.
func (s GenesisSpec) Genesis() (*gethcore.Genesis, error) {
	if err := s.Config.Check(); err != nil {
		return nil, err
	}
	if s.GasLimit == 0 {
		return nil, fmt.Errorf("genesis: zero gas limit")
	}
	if s.Balance == nil || s.Balance.Sign() < 0 || s.Balance.BitLen() > 256 {
		return nil, fmt.Errorf("genesis: balance must be in [0, 2^256)")
	}
	baseFee := s.BaseFee
	if baseFee == nil {
		baseFee = new(big.Int)
	}
	alloc := make(types.GenesisAlloc, len(s.Funded))
	for _, addr := range s.Funded {
		alloc[addr] = types.Account{Balance: new(big.Int).Set(s.Balance)}
	}
	if err := addPredeploys(s.Config, alloc, s.Predeploys); err != nil {
		return nil, err
	}
	return &gethcore.Genesis{
		Config:     s.Config.Ethereum,
		Timestamp:  s.Timestamp,
		GasLimit:   s.GasLimit,
		BaseFee:    new(big.Int).Set(baseFee),
		Difficulty: new(big.Int),
		Alloc:      alloc,
	}, nil
}
