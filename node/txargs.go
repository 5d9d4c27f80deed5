package node

import (
	"bytes"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	gethcore "github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/holiman/uint256"
)

// txArgs are the transaction fields of eth_call, eth_estimateGas,
// eth_sendTransaction and friends, as geth accepts them.
type txArgs struct {
	From                 *common.Address              `json:"from"`
	To                   *common.Address              `json:"to"`
	Gas                  *hexutil.Uint64              `json:"gas"`
	GasPrice             *hexutil.Big                 `json:"gasPrice"`
	MaxFeePerGas         *hexutil.Big                 `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *hexutil.Big                 `json:"maxPriorityFeePerGas"`
	Value                *hexutil.Big                 `json:"value"`
	Nonce                *hexutil.Uint64              `json:"nonce"`
	Data                 *hexutil.Bytes               `json:"data"`
	Input                *hexutil.Bytes               `json:"input"`
	AccessList           *types.AccessList            `json:"accessList,omitempty"`
	ChainID              *hexutil.Big                 `json:"chainId,omitempty"`
	Type                 *hexutil.Uint64              `json:"type,omitempty"`
	AuthorizationList    []types.SetCodeAuthorization `json:"authorizationList,omitempty"`
	BlobHashes           []common.Hash                `json:"blobVersionedHashes,omitempty"`
	BlobFeeCap           *hexutil.Big                 `json:"maxFeePerBlobGas,omitempty"`
}

func (a *txArgs) from() common.Address {
	if a.From == nil {
		return common.Address{}
	}
	return *a.From
}

func (a *txArgs) data() []byte {
	if a.Input != nil {
		return *a.Input
	}
	if a.Data != nil {
		return *a.Data
	}
	return nil
}

// checkData refuses input and data that disagree, as geth does.
func (a *txArgs) checkData() error {
	if a.Data != nil && a.Input != nil && !bytes.Equal(*a.Data, *a.Input) {
		return errors.New(`both "data" and "input" are set and not equal. Please use "input" to pass transaction call data`)
	}
	return nil
}

// checkFeeStyle refuses mixing legacy and EIP-1559 fee fields.
func (a *txArgs) checkFeeStyle() error {
	if a.GasPrice != nil && (a.MaxFeePerGas != nil || a.MaxPriorityFeePerGas != nil) {
		return errors.New("both gasPrice and (maxFeePerGas or maxPriorityFeePerGas) specified")
	}
	return nil
}

// callDefaults fills what a call needs: gas up to the cap, zero nonce and
// value, the chain id.
func (a *txArgs) callDefaults(gasCap uint64, chainID *big.Int) error {
	if err := a.checkData(); err != nil {
		return err
	}
	if err := a.checkFeeStyle(); err != nil {
		return err
	}
	if a.To == nil {
		if a.BlobHashes != nil {
			return gethcore.ErrBlobTxCreate
		}
		if a.AuthorizationList != nil {
			return gethcore.ErrSetCodeTxCreate
		}
	}
	if a.ChainID == nil {
		a.ChainID = (*hexutil.Big)(chainID)
	} else if have := a.ChainID.ToInt(); have.Cmp(chainID) != 0 {
		return fmt.Errorf("chainId does not match node's (have=%v, want=%v)", have, chainID)
	}
	if a.Gas == nil || uint64(*a.Gas) > gasCap {
		gas := hexutil.Uint64(gasCap)
		a.Gas = &gas
	}
	if a.Nonce == nil {
		a.Nonce = new(hexutil.Uint64)
	}
	if a.Value == nil {
		a.Value = new(hexutil.Big)
	}
	return nil
}

// toMessage turns call arguments into a message; baseFee is the block's
// (nil before London). Calls skip the nonce and EOA checks.
func (a *txArgs) toMessage(baseFee *big.Int, skipNonce bool) (*gethcore.Message, error) {
	toU256 := func(b *hexutil.Big) (*uint256.Int, error) {
		if b == nil {
			return new(uint256.Int), nil
		}
		v, overflow := uint256.FromBig(b.ToInt())
		if overflow || b.ToInt().Sign() < 0 {
			return nil, fmt.Errorf("value %v out of range", b.ToInt())
		}
		return v, nil
	}
	var gasPrice, feeCap, tipCap *uint256.Int
	var err error
	switch {
	case baseFee == nil || a.GasPrice != nil:
		if gasPrice, err = toU256(a.GasPrice); err != nil {
			return nil, err
		}
		feeCap, tipCap = gasPrice, gasPrice
	default:
		if feeCap, err = toU256(a.MaxFeePerGas); err != nil {
			return nil, err
		}
		if tipCap, err = toU256(a.MaxPriorityFeePerGas); err != nil {
			return nil, err
		}
		gasPrice = new(uint256.Int)
		if !feeCap.IsZero() || !tipCap.IsZero() {
			gasPrice.Add(tipCap, uint256.MustFromBig(baseFee))
			if gasPrice.Cmp(feeCap) > 0 {
				gasPrice.Set(feeCap)
			}
		}
	}
	value, err := toU256(a.Value)
	if err != nil {
		return nil, err
	}
	blobFeeCap, err := toU256(a.BlobFeeCap)
	if err != nil {
		return nil, err
	}
	var al types.AccessList
	if a.AccessList != nil {
		al = *a.AccessList
	}
	msg := &gethcore.Message{
		From:                  a.from(),
		To:                    a.To,
		Value:                 value,
		Nonce:                 uint64(*a.Nonce),
		GasLimit:              uint64(*a.Gas),
		GasPrice:              gasPrice,
		GasFeeCap:             feeCap,
		GasTipCap:             tipCap,
		Data:                  a.data(),
		AccessList:            al,
		BlobGasFeeCap:         blobFeeCap,
		BlobHashes:            a.BlobHashes,
		SetCodeAuthorizations: a.AuthorizationList,
	}
	if skipNonce {
		msg.SkipNonceCheck()
	}
	return msg.SkipEOACheck().SkipGasLimitCapCheck(), nil
}

// toTransaction builds the unsigned transaction of fully defaulted args.
func (a *txArgs) toTransaction() (*types.Transaction, error) {
	if a.BlobHashes != nil {
		return nil, errors.New("blob transactions are not supported by eth_sendTransaction")
	}
	var al types.AccessList
	if a.AccessList != nil {
		al = *a.AccessList
	}
	if a.Nonce == nil || a.Gas == nil || a.Value == nil || a.ChainID == nil {
		return nil, errors.New("transaction fields not filled")
	}
	zero := new(hexutil.Big)
	if a.MaxFeePerGas == nil {
		a.MaxFeePerGas = zero
	}
	if a.MaxPriorityFeePerGas == nil {
		a.MaxPriorityFeePerGas = zero
	}
	nonce, gas, value, data := uint64(*a.Nonce), uint64(*a.Gas), a.Value.ToInt(), a.data()
	var inner types.TxData
	switch {
	case a.AuthorizationList != nil:
		if a.To == nil {
			return nil, gethcore.ErrSetCodeTxCreate
		}
		if a.GasPrice != nil {
			return nil, errors.New("both gasPrice and authorizationList specified")
		}
		v, overflow := uint256.FromBig(value)
		if overflow {
			return nil, errors.New("value out of range")
		}
		inner = &types.SetCodeTx{
			ChainID: uint256.MustFromBig(a.ChainID.ToInt()), Nonce: nonce, GasTipCap: uint256.MustFromBig(a.MaxPriorityFeePerGas.ToInt()),
			GasFeeCap: uint256.MustFromBig(a.MaxFeePerGas.ToInt()), Gas: gas, To: *a.To, Value: v, Data: data, AccessList: al,
			AuthList: a.AuthorizationList,
		}
	case a.GasPrice != nil && a.AccessList != nil:
		inner = &types.AccessListTx{ChainID: a.ChainID.ToInt(), Nonce: nonce, GasPrice: a.GasPrice.ToInt(), Gas: gas, To: a.To, Value: value, Data: data, AccessList: al}
	case a.GasPrice != nil:
		inner = &types.LegacyTx{Nonce: nonce, GasPrice: a.GasPrice.ToInt(), Gas: gas, To: a.To, Value: value, Data: data}
	default:
		inner = &types.DynamicFeeTx{
			ChainID: a.ChainID.ToInt(), Nonce: nonce, GasTipCap: a.MaxPriorityFeePerGas.ToInt(), GasFeeCap: a.MaxFeePerGas.ToInt(),
			Gas: gas, To: a.To, Value: value, Data: data, AccessList: al,
		}
	}
	return types.NewTx(inner), nil
}
