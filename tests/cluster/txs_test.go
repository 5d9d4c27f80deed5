//go:build cluster

package cluster

import (
	"context"
	"crypto/ecdsa"
	"encoding/binary"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/tests/vectors"
)

// forwarderCode deploys a contract that passes its calldata to the
// inference precompile, logs the answer (LOG0) and stores its hash in slot
// 0: a wrong inference result shows in the receipt and in the state root.
//
//	CALLDATASIZE PUSH0 PUSH0 CALLDATACOPY
//	PUSH0 PUSH0 CALLDATASIZE PUSH0 PUSH0 PUSH20 precompile GAS CALL POP
//	RETURNDATASIZE PUSH0 PUSH0 RETURNDATACOPY
//	RETURNDATASIZE PUSH0 LOG0
//	RETURNDATASIZE PUSH0 KECCAK256 PUSH0 SSTORE STOP
func forwarderCode() []byte {
	runtime := []byte{0x36, 0x5f, 0x5f, 0x37, 0x5f, 0x5f, 0x36, 0x5f, 0x5f, 0x73}
	runtime = append(runtime, params.InferencePrecompileAddress.Bytes()...)
	runtime = append(runtime, 0x5a, 0xf1, 0x50, 0x3d, 0x5f, 0x5f, 0x3e, 0x3d, 0x5f, 0xa0, 0x3d, 0x5f, 0x20, 0x5f, 0x55, 0x00)
	// PUSH1 len DUP1 PUSH1 10 PUSH0 CODECOPY PUSH0 RETURN
	initCode := []byte{0x60, byte(len(runtime)), 0x80, 0x60, 10, 0x5f, 0x39, 0x5f, 0xf3}
	initCode = append(initCode, 0x00) // pad to the 10-byte offset
	return append(initCode, runtime...)
}

// inferCalldata is infer(bytes32 id, bytes input) on the named demo model
// with an input derived from seed.
func inferCalldata(t *testing.T, model string, seed byte) []byte {
	t.Helper()
	for _, d := range vectors.Demos() {
		if d.Name != model {
			continue
		}
		m, err := inference.Decode(d.Bytes)
		if err != nil {
			t.Fatal(err)
		}
		input := make([]byte, m.InputBytes())
		for i := range input {
			input[i] = byte(i*7) + seed
		}
		id := inference.ID(d.Bytes)
		out := append([]byte{}, crypto.Keccak256([]byte("infer(bytes32,bytes)"))[:4]...)
		out = append(out, id[:]...)
		out = append(out, word(64)...)
		out = append(out, word(uint64(len(input)))...)
		out = append(out, input...)
		if pad := len(input) % 32; pad != 0 {
			out = append(out, make([]byte, 32-pad)...)
		}
		return out
	}
	t.Fatalf("no demo model %q", model)
	return nil
}

func word(v uint64) []byte {
	w := make([]byte, 32)
	binary.BigEndian.PutUint64(w[24:], v)
	return w
}

// account signs transactions with a local nonce.
type account struct {
	key   *ecdsa.PrivateKey
	addr  common.Address
	nonce uint64
}

func (c *cluster) account(i int) *account {
	return &account{key: c.keys[i], addr: c.addrs[i]}
}

// tx signs a dynamic-fee transaction at an explicit nonce; tip sets the
// priority fee in gwei (a replacement needs a higher one).
func (a *account) tx(t *testing.T, nonce uint64, to *common.Address, value int64, data []byte, gas uint64, tipGwei int64) *types.Transaction {
	t.Helper()
	gwei := big.NewInt(1_000_000_000)
	inner := &types.DynamicFeeTx{
		ChainID:   big.NewInt(int64(params.DevnetChainID)),
		Nonce:     nonce,
		GasTipCap: new(big.Int).Mul(big.NewInt(tipGwei), gwei),
		GasFeeCap: new(big.Int).Mul(big.NewInt(100+tipGwei), gwei),
		Gas:       gas,
		To:        to,
		Value:     big.NewInt(value),
		Data:      data,
	}
	tx, err := types.SignNewTx(a.key, types.LatestSignerForChainID(inner.ChainID), inner)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

// next signs the account's next transaction.
func (a *account) next(t *testing.T, to *common.Address, value int64, data []byte, gas uint64) *types.Transaction {
	tx := a.tx(t, a.nonce, to, value, data, gas, 1)
	a.nonce++
	return tx
}

func (n *node) send(tx *types.Transaction) {
	n.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.client.SendTransaction(ctx, tx); err != nil {
		n.t.Fatalf("%s: eth_sendRawTransaction %x: %v", n.name, tx.Hash(), err)
	}
}

// deployForwarder deploys the forwarder through n and returns its address.
func (c *cluster) deployForwarder(n *node, from *account) common.Address {
	c.t.Helper()
	tx := from.next(c.t, nil, 0, forwarderCode(), 300_000)
	n.send(tx)
	r := n.waitReceipt(tx.Hash())
	if r.Status != types.ReceiptStatusSuccessful {
		c.t.Fatalf("forwarder deployment failed")
	}
	return r.ContractAddress
}
