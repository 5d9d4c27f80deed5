package node

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"io"
	"math/big"
	"net/http"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rpc"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// testNode is a devnet node serving on a loopback port.
type testNode struct {
	*Node
	t        *testing.T
	rpc      *rpc.Client
	accounts []devkeys.Account
}

func newTestNode(t *testing.T, mods ...func(*Config)) *testNode {
	t.Helper()
	accounts, err := devkeys.Derive(params.DevnetMnemonic, 3)
	if err != nil {
		t.Fatal(err)
	}
	funded := []common.Address{accounts[0].Address, accounts[1].Address, accounts[2].Address}
	cfg := Config{
		Chain: params.DevnetConfig(params.DevnetChainID),
		Genesis: core.GenesisSpec{
			Funded: funded, Balance: new(big.Int).Mul(big.NewInt(10000), big.NewInt(1e18)),
			GasLimit: params.DevnetGasLimit, BaseFee: big.NewInt(1e9), Timestamp: uint64(time.Now().Unix()),
			Predeploys: core.StandardPredeploys(),
		},
		Accounts: accounts,
		Factory:  vm.NewFactory(),
		HTTPAddr: "127.0.0.1:0",
	}
	for _, m := range mods {
		m(&cfg)
	}
	n, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Start(); err != nil {
		t.Fatal(err)
	}
	client, err := rpc.DialHTTP(n.HTTPURL())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		client.Close()
		if err := n.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return &testNode{Node: n, t: t, rpc: client, accounts: accounts}
}

// call makes a JSON-RPC call and fails the test on error.
func (tn *testNode) call(out any, method string, args ...any) {
	tn.t.Helper()
	if err := tn.rpc.Call(out, method, args...); err != nil {
		tn.t.Fatalf("%s: %v", method, err)
	}
}

// callErr makes a JSON-RPC call expected to fail and returns the error.
func (tn *testNode) callErr(method string, args ...any) error {
	tn.t.Helper()
	var out json.RawMessage
	err := tn.rpc.Call(&out, method, args...)
	if err == nil {
		tn.t.Fatalf("%s: no error, result %s", method, out)
	}
	return err
}

// post sends a raw body and returns the status and body.
func (tn *testNode) post(body string) (int, string) {
	tn.t.Helper()
	resp, err := http.Post(tn.HTTPURL(), "application/json", bytes.NewBufferString(body))
	if err != nil {
		tn.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func (tn *testNode) key(i int) *ecdsa.PrivateKey { return tn.accounts[i].Key }
func (tn *testNode) addr(i int) common.Address   { return tn.accounts[i].Address }

// signed builds and signs a dynamic-fee transaction from account i.
func (tn *testNode) signed(i int, nonce uint64, to *common.Address, value *big.Int, gas uint64, data []byte) *types.Transaction {
	tn.t.Helper()
	tx, err := types.SignNewTx(tn.key(i), types.LatestSignerForChainID(tn.chainID()), &types.DynamicFeeTx{
		ChainID: tn.chainID(), Nonce: nonce, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9),
		Gas: gas, To: to, Value: value, Data: data,
	})
	if err != nil {
		tn.t.Fatal(err)
	}
	return tx
}

func (tn *testNode) sendRaw(tx *types.Transaction) error {
	raw, _ := tx.MarshalBinary()
	var hash common.Hash
	return tn.rpc.Call(&hash, "eth_sendRawTransaction", hexutil.Bytes(raw))
}

func (tn *testNode) mustSend(tx *types.Transaction) {
	tn.t.Helper()
	if err := tn.sendRaw(tx); err != nil {
		tn.t.Fatalf("send: %v", err)
	}
}

func (tn *testNode) nonce(addr common.Address) uint64 {
	var n hexutil.Uint64
	tn.call(&n, "eth_getTransactionCount", addr, "pending")
	return uint64(n)
}

// receipt is the fields of a receipt the tests read.
type receipt struct {
	BlockHash       common.Hash     `json:"blockHash"`
	BlockNumber     hexutil.Uint64  `json:"blockNumber"`
	Status          hexutil.Uint64  `json:"status"`
	From            common.Address  `json:"from"`
	ContractAddress *common.Address `json:"contractAddress"`
	GasUsed         hexutil.Uint64  `json:"gasUsed"`
	Logs            []types.Log     `json:"logs"`
}

func (tn *testNode) receipt(hash common.Hash) *receipt {
	tn.t.Helper()
	var r *receipt
	tn.call(&r, "eth_getTransactionReceipt", hash)
	return r
}

// deploy sends init code from account 0 and returns the contract address.
func (tn *testNode) deploy(init []byte) common.Address {
	tn.t.Helper()
	tx := tn.signed(0, tn.nonce(tn.addr(0)), nil, nil, 500_000, init)
	tn.mustSend(tx)
	r := tn.receipt(tx.Hash())
	if r == nil || r.Status != 1 || r.ContractAddress == nil {
		tn.t.Fatalf("deploy failed: %+v", r)
	}
	return *r.ContractAddress
}

// initCode wraps runtime code in init code that returns it.
func initCode(runtime []byte) []byte {
	n := byte(len(runtime))
	// PUSH1 n PUSH1 12 PUSH1 0 CODECOPY PUSH1 n PUSH1 0 RETURN
	return append([]byte{0x60, n, 0x60, 0x0c, 0x60, 0x00, 0x39, 0x60, n, 0x60, 0x00, 0xf3}, runtime...)
}

// Runtime codes the tests deploy.
var (
	// counter: every call increments slot 0; returns nothing.
	counterCode = common.FromHex("0x600160005401600055")
	// clock: returns block.timestamp.
	clockCode = common.FromHex("0x4260005260206000f3")
	// logger: emits LOG1 with topic logTopic and 32 bytes of 0x2a.
	loggerCode = append(append(common.FromHex("0x602a6000527f"), logTopic.Bytes()...), common.FromHex("0x60206000a100")...)
	// reverter: reverts with Error("nope").
	reverterCode = common.FromHex("0x" +
		"7f08c379a000000000000000000000000000000000000000000000000000000000600052" +
		"7f0000000000000000000000000000000000000000000000000000000000000020600452" +
		"7f0000000000000000000000000000000000000000000000000000000000000004602452" +
		"7f6e6f706500000000000000000000000000000000000000000000000000000000604452" +
		"60646000fd")
	logTopic = common.HexToHash("0x1111111111111111111111111111111111111111111111111111111111111111")
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}
