package statetest

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/common/math"
	"github.com/ethereum/go-ethereum/core"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/holiman/uint256"
)

// The types below read the GeneralStateTests JSON format as geth's tests
// package does (tests/state_test_util.go and its gencodec files); geth keeps
// its own copies unexported.

// Test is one named state test of a file: a pre-state, an environment, a
// transaction template, and the expected post-state per fork and index.
type Test struct {
	Env  Env                    `json:"env"`
	Pre  types.GenesisAlloc     `json:"pre"`
	Tx   Transaction            `json:"transaction"`
	Post map[string][]PostState `json:"post"`
}

// Env is the block environment the transaction runs in.
type Env struct {
	Coinbase      common.Address
	Difficulty    *big.Int
	Random        *big.Int
	GasLimit      uint64
	Number        uint64
	Timestamp     uint64
	BaseFee       *big.Int
	ExcessBlobGas *uint64
	SlotNumber    *uint64
}

// UnmarshalJSON reads an env object; coinbase, gas limit, number and
// timestamp are required.
func (e *Env) UnmarshalJSON(input []byte) error {
	var dec struct {
		Coinbase      *common.UnprefixedAddress `json:"currentCoinbase"`
		Difficulty    *math.HexOrDecimal256     `json:"currentDifficulty"`
		Random        *math.HexOrDecimal256     `json:"currentRandom"`
		GasLimit      *math.HexOrDecimal64      `json:"currentGasLimit"`
		Number        *math.HexOrDecimal64      `json:"currentNumber"`
		Timestamp     *math.HexOrDecimal64      `json:"currentTimestamp"`
		BaseFee       *math.HexOrDecimal256     `json:"currentBaseFee"`
		ExcessBlobGas *math.HexOrDecimal64      `json:"currentExcessBlobGas"`
		SlotNumber    *math.HexOrDecimal64      `json:"slotNumber"`
	}
	if err := json.Unmarshal(input, &dec); err != nil {
		return err
	}
	switch {
	case dec.Coinbase == nil:
		return errors.New("env: missing currentCoinbase")
	case dec.GasLimit == nil:
		return errors.New("env: missing currentGasLimit")
	case dec.Number == nil:
		return errors.New("env: missing currentNumber")
	case dec.Timestamp == nil:
		return errors.New("env: missing currentTimestamp")
	}
	*e = Env{
		Coinbase:   common.Address(*dec.Coinbase),
		Difficulty: (*big.Int)(dec.Difficulty),
		Random:     (*big.Int)(dec.Random),
		GasLimit:   uint64(*dec.GasLimit),
		Number:     uint64(*dec.Number),
		Timestamp:  uint64(*dec.Timestamp),
		BaseFee:    (*big.Int)(dec.BaseFee),
	}
	if dec.ExcessBlobGas != nil {
		v := uint64(*dec.ExcessBlobGas)
		e.ExcessBlobGas = &v
	}
	if dec.SlotNumber != nil {
		v := uint64(*dec.SlotNumber)
		e.SlotNumber = &v
	}
	return nil
}

// Transaction is the transaction template: a subtest picks one data, gas
// limit and value by index.
type Transaction struct {
	GasPrice             *math.HexOrDecimal256 `json:"gasPrice"`
	MaxFeePerGas         *math.HexOrDecimal256 `json:"maxFeePerGas"`
	MaxPriorityFeePerGas *math.HexOrDecimal256 `json:"maxPriorityFeePerGas"`
	Nonce                *math.HexOrDecimal256 `json:"nonce"`
	To                   string                `json:"to"`
	Data                 []string              `json:"data"`
	AccessLists          []*types.AccessList   `json:"accessLists,omitempty"`
	GasLimit             []math.HexOrDecimal64 `json:"gasLimit"`
	Value                []string              `json:"value"`
	PrivateKey           hexutil.Bytes         `json:"secretKey"`
	Sender               *common.Address       `json:"sender"`
	BlobVersionedHashes  []common.Hash         `json:"blobVersionedHashes,omitempty"`
	BlobGasFeeCap        *math.HexOrDecimal256 `json:"maxFeePerBlobGas,omitempty"`
	AuthorizationList    []*Authorization      `json:"authorizationList,omitempty"`
}

// Authorization is one EIP-7702 authorization of a set-code transaction.
type Authorization struct {
	ChainID *math.HexOrDecimal256 `json:"chainId"`
	Address *common.Address       `json:"address"`
	Nonce   *math.HexOrDecimal64  `json:"nonce"`
	V       *math.HexOrDecimal64  `json:"v"`
	R       *math.HexOrDecimal256 `json:"r"`
	S       *math.HexOrDecimal256 `json:"s"`
}

// PostState is the expected outcome of one subtest.
type PostState struct {
	Root            common.UnprefixedHash `json:"hash"`
	Logs            common.UnprefixedHash `json:"logs"`
	TxBytes         hexutil.Bytes         `json:"txbytes"`
	ExpectException string                `json:"expectException"`
	Indexes         struct {
		Data  int `json:"data"`
		Gas   int `json:"gas"`
		Value int `json:"value"`
	} `json:"indexes"`
}

// bigOf returns v as a *big.Int, nil stays nil.
func bigOf(v *math.HexOrDecimal256) *big.Int { return (*big.Int)(v) }

// toMessage builds the message of one subtest, as geth's
// stTransaction.toMessage does (without mutating the template).
func (tx *Transaction) toMessage(ps PostState, baseFee *big.Int) (*core.Message, error) {
	// The nonce is an arbitrary-precision integer so that fixtures probing
	// the EIP-2681 limit load; such a transaction is refused here.
	var nonce uint64
	if n := bigOf(tx.Nonce); n != nil {
		if !n.IsUint64() {
			return nil, fmt.Errorf("nonce %v exceeds 2^64-1 (EIP-2681)", n)
		}
		nonce = n.Uint64()
	}
	var from common.Address
	if tx.Sender != nil {
		from = *tx.Sender
	} else if len(tx.PrivateKey) > 0 {
		key, err := crypto.ToECDSA(tx.PrivateKey)
		if err != nil {
			return nil, fmt.Errorf("invalid private key: %w", err)
		}
		from = crypto.PubkeyToAddress(key.PublicKey)
	}
	var to *common.Address
	if tx.To != "" {
		to = new(common.Address)
		if err := to.UnmarshalText([]byte(tx.To)); err != nil {
			return nil, fmt.Errorf("invalid to address %q: %w", tx.To, err)
		}
	}
	ix := ps.Indexes
	if ix.Data < 0 || ix.Data >= len(tx.Data) {
		return nil, fmt.Errorf("tx data index %d out of bounds", ix.Data)
	}
	if ix.Value < 0 || ix.Value >= len(tx.Value) {
		return nil, fmt.Errorf("tx value index %d out of bounds", ix.Value)
	}
	if ix.Gas < 0 || ix.Gas >= len(tx.GasLimit) {
		return nil, fmt.Errorf("tx gas limit index %d out of bounds", ix.Gas)
	}
	dataHex, valueHex, gasLimit := tx.Data[ix.Data], tx.Value[ix.Value], uint64(tx.GasLimit[ix.Gas])
	// Value and data hex encodings are messy: https://github.com/ethereum/tests/issues/203
	value := new(big.Int)
	if valueHex != "0x" {
		v, ok := math.ParseBig256(valueHex)
		if !ok {
			return nil, fmt.Errorf("invalid tx value %q", valueHex)
		}
		value = v
	}
	data, err := hex.DecodeString(strings.TrimPrefix(dataHex, "0x"))
	if err != nil {
		return nil, fmt.Errorf("invalid tx data %q", dataHex)
	}
	var accessList types.AccessList
	if ix.Data < len(tx.AccessLists) && tx.AccessLists[ix.Data] != nil {
		accessList = *tx.AccessLists[ix.Data]
	}
	// With a base fee, the gas price is the effective gas price.
	gasPrice, feeCap, tipCap := bigOf(tx.GasPrice), bigOf(tx.MaxFeePerGas), bigOf(tx.MaxPriorityFeePerGas)
	if baseFee != nil {
		if feeCap == nil {
			feeCap = gasPrice
		}
		if feeCap == nil {
			feeCap = new(big.Int)
		}
		if tipCap == nil {
			tipCap = feeCap
		}
		gasPrice = new(big.Int).Add(tipCap, baseFee)
		if gasPrice.Cmp(feeCap) > 0 {
			gasPrice = feeCap
		}
	}
	if gasPrice == nil {
		return nil, errors.New("no gas price provided")
	}
	var authList []types.SetCodeAuthorization
	for i, a := range tx.AuthorizationList {
		if a == nil || a.ChainID == nil || a.Address == nil || a.Nonce == nil || a.V == nil || a.R == nil || a.S == nil {
			return nil, fmt.Errorf("authorization %d: missing field", i)
		}
		chainID, overflow1 := uint256.FromBig(bigOf(a.ChainID))
		r, overflow2 := uint256.FromBig(bigOf(a.R))
		s, overflow3 := uint256.FromBig(bigOf(a.S))
		if overflow1 || overflow2 || overflow3 {
			return nil, fmt.Errorf("authorization %d: value exceeds 256 bits", i)
		}
		authList = append(authList, types.SetCodeAuthorization{
			ChainID: *chainID,
			Address: *a.Address,
			Nonce:   uint64(*a.Nonce),
			V:       uint8(*a.V),
			R:       *r,
			S:       *s,
		})
	}
	return &core.Message{
		From:                  from,
		To:                    to,
		Nonce:                 nonce,
		Value:                 uint256.MustFromBig(value),
		GasLimit:              gasLimit,
		GasPrice:              uint256.MustFromBig(gasPrice),
		GasFeeCap:             uint256.MustFromBig(feeCap),
		GasTipCap:             uint256.MustFromBig(tipCap),
		Data:                  data,
		AccessList:            accessList,
		BlobHashes:            tx.BlobVersionedHashes,
		BlobGasFeeCap:         uint256.MustFromBig(bigOf(tx.BlobGasFeeCap)),
		SetCodeAuthorizations: authList,
	}, nil
}
