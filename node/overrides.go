package node

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/state"
	"github.com/ethereum/go-ethereum/core/tracing"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/holiman/uint256"
)

// overrideAccount is one account's state override in eth_call and friends.
type overrideAccount struct {
	Nonce            *hexutil.Uint64             `json:"nonce"`
	Code             *hexutil.Bytes              `json:"code"`
	Balance          *hexutil.Big                `json:"balance"`
	State            map[common.Hash]common.Hash `json:"state"`
	StateDiff        map[common.Hash]common.Hash `json:"stateDiff"`
	MovePrecompileTo *common.Address             `json:"movePrecompileToAddress"`
}

// stateOverride maps accounts to their overrides.
type stateOverride map[common.Address]overrideAccount

// apply writes the overrides into statedb.
func (o stateOverride) apply(statedb *state.StateDB) error {
	for addr, acc := range o {
		if acc.MovePrecompileTo != nil {
			return errors.New("movePrecompileToAddress is not supported")
		}
		if acc.Nonce != nil {
			statedb.SetNonce(addr, uint64(*acc.Nonce), tracing.NonceChangeUnspecified)
		}
		if acc.Code != nil {
			statedb.SetCode(addr, *acc.Code, tracing.CodeChangeUnspecified)
		}
		if acc.Balance != nil {
			b, overflow := uint256.FromBig(acc.Balance.ToInt())
			if overflow || acc.Balance.ToInt().Sign() < 0 {
				return fmt.Errorf("account %s: balance out of range", addr)
			}
			statedb.SetBalance(addr, b, tracing.BalanceChangeUnspecified)
		}
		if acc.State != nil && acc.StateDiff != nil {
			return fmt.Errorf("account %s has both 'state' and 'stateDiff'", addr.Hex())
		}
		if acc.State != nil {
			statedb.SetStorage(addr, acc.State)
		}
		for k, v := range acc.StateDiff {
			statedb.SetState(addr, k, v)
		}
	}
	return nil
}

// blockOverrides replaces fields of the block context a call runs in.
type blockOverrides struct {
	Number        *hexutil.Big    `json:"number"`
	Difficulty    *hexutil.Big    `json:"difficulty"`
	Time          *hexutil.Uint64 `json:"time"`
	GasLimit      *hexutil.Uint64 `json:"gasLimit"`
	FeeRecipient  *common.Address `json:"feeRecipient"`
	Coinbase      *common.Address `json:"coinbase"`
	PrevRandao    *common.Hash    `json:"prevRandao"`
	BaseFeePerGas *hexutil.Big    `json:"baseFeePerGas"`
	BlobBaseFee   *hexutil.Big    `json:"blobBaseFee"`
}

func (o *blockOverrides) apply(ctx *gethvm.BlockContext) error {
	if o == nil {
		return nil
	}
	if o.Number != nil {
		if o.Number.ToInt().Sign() < 0 {
			return errors.New("block number override is negative")
		}
		ctx.BlockNumber = new(big.Int).Set(o.Number.ToInt())
	}
	if o.Difficulty != nil {
		ctx.Difficulty = new(big.Int).Set(o.Difficulty.ToInt())
	}
	if o.Time != nil {
		ctx.Time = uint64(*o.Time)
	}
	if o.GasLimit != nil {
		ctx.GasLimit = uint64(*o.GasLimit)
	}
	if o.FeeRecipient != nil {
		ctx.Coinbase = *o.FeeRecipient
	}
	if o.Coinbase != nil {
		ctx.Coinbase = *o.Coinbase
	}
	if o.PrevRandao != nil {
		r := *o.PrevRandao
		ctx.Random = &r
	}
	if o.BaseFeePerGas != nil {
		ctx.BaseFee = new(big.Int).Set(o.BaseFeePerGas.ToInt())
	}
	if o.BlobBaseFee != nil {
		ctx.BlobBaseFee = new(big.Int).Set(o.BlobBaseFee.ToInt())
	}
	return nil
}
