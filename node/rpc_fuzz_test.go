package node

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/core/devkeys"
	"github.com/infergeth/infergeth/params"
	"github.com/infergeth/infergeth/vm"
)

// The JSON-RPC fuzz targets feed arbitrary bytes through the same handler
// the node's HTTP port serves (the eth_call fast path in front of geth's
// server), in process, so every method's argument decoding and handler is
// reachable. What must hold for any body: no panic, no "method handler
// crashed" (geth's server turns a handler's panic into that answer, which
// is a bug here all the same), and an answer that is either a JSON value
// or an HTTP error status.

// rpcHandlerForFuzz starts one node per fuzz target (starting one per
// input would make the fuzzer measure node start-up) and returns its HTTP
// handler; the node closes when the target ends.
func rpcHandlerForFuzz(f *testing.F) http.Handler {
	accounts, err := devkeys.Derive(params.DevnetMnemonic, 2)
	if err != nil {
		f.Fatal(err)
	}
	n, err := New(Config{
		Chain: params.DevnetConfig(params.DevnetChainID),
		Genesis: core.GenesisSpec{
			Funded:  []common.Address{accounts[0].Address, accounts[1].Address},
			Balance: new(big.Int).Mul(big.NewInt(10000), big.NewInt(1e18)), GasLimit: params.DevnetGasLimit,
			BaseFee: big.NewInt(1e9), Timestamp: uint64(time.Now().Unix()), Predeploys: core.StandardPredeploys(),
		},
		Accounts: accounts,
		Factory:  vm.NewFactory(),
		HTTPAddr: "127.0.0.1:0",
	})
	if err != nil {
		f.Fatal(err)
	}
	if err := n.Start(); err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { n.Close() })
	return n.fastPath(n.rpc)
}

// serveRPC posts body to the node's handler and checks the answer.
func serveRPC(t *testing.T, h http.Handler, contentType string, body []byte) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	out := rec.Body.Bytes()
	if bytes.Contains(out, []byte("method handler crashed")) {
		t.Fatalf("handler crashed on %q: %s", body, out)
	}
	if rec.Code == http.StatusOK && len(bytes.TrimSpace(out)) > 0 && !json.Valid(out) {
		t.Fatalf("status 200 with an answer that is not JSON on %q: %q", body, out)
	}
	if rec.Code >= 500 {
		t.Fatalf("status %d on %q: %s", rec.Code, body, out)
	}
}

// rpcSeedMethods are the methods the seeds call, the arguments are
// rpcSeedArgs; the fuzzer mutates from there (and finds other methods by
// itself only slowly, hence a broad seed set).
var rpcSeedMethods = []string{
	"eth_call", "eth_estimateGas", "eth_createAccessList", "eth_sendTransaction", "eth_fillTransaction",
	"eth_signTransaction", "eth_sign", "eth_signTypedData_v4", "eth_sendRawTransaction", "eth_sendRawTransactionSync",
	"eth_getBalance", "eth_getTransactionCount", "eth_getCode", "eth_getStorageAt", "eth_getBlockByNumber",
	"eth_getBlockByHash", "eth_getTransactionByHash", "eth_getTransactionReceipt", "eth_getBlockReceipts",
	"eth_feeHistory", "eth_getLogs", "eth_newFilter", "eth_getFilterChanges", "eth_getFilterLogs",
	"eth_uninstallFilter", "eth_getProof", "ots_getBlockDetails", "ots_searchTransactionsBefore",
	"debug_traceTransaction", "debug_traceCall", "debug_traceBlockByNumber",
	"evm_snapshot", "evm_revert", "evm_mine", "evm_increaseTime", "evm_setNextBlockTimestamp",
	"anvil_setBalance", "anvil_setCode", "anvil_setStorageAt", "anvil_mine", "personal_sign",
	"inference_modelInfo", "inference_quote", "txpool_content",
}

var rpcSeedArgs = []string{
	`[]`, `[null]`, `[{}]`, `["0x"]`, `["latest"]`, `[-1]`, `[1e400]`,
	`["0xffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"]`,
	`[{"from":"0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266","to":"0x70997970C51812dc3A010C7d01b50e0d17dc79C8","gas":"0x5208","value":"0x1"},"latest"]`,
	`[{"to":"0x0000000000000000000000000000000000000a00","data":"0x1234"},"latest",{"0x0000000000000000000000000000000000000a00":{"code":"0x00"}},{"number":"0x1"}]`,
	`[{"fromBlock":"0x0","toBlock":"latest","topics":[null,["0x1111111111111111111111111111111111111111111111111111111111111111"]]}]`,
	`["0x0000000000000000000000000000000000000000000000000000000000000000",{"tracer":"callTracer"}]`,
	`["0x70997970C51812dc3A010C7d01b50e0d17dc79C8","0x10"]`, `["0x02f8"]`, `[{"timestamp":"0x1","blocks":"0x2"}]`,
}

// rpcSeeds are the in-code seeds; testdata/fuzz/FuzzRPCHandler holds more:
// inputs with which the fuzzer found new coverage.
func rpcSeeds() [][]byte {
	var out [][]byte
	for _, body := range fastCallCorpus {
		out = append(out, []byte(body))
	}
	for i, m := range rpcSeedMethods {
		args := rpcSeedArgs[i%len(rpcSeedArgs)]
		out = append(out, fmt.Appendf(nil, `{"jsonrpc":"2.0","id":%d,"method":%q,"params":%s}`, i, m, args))
	}
	out = append(out,
		[]byte(`[{"jsonrpc":"2.0","id":1,"method":"eth_blockNumber"},{"jsonrpc":"2.0","id":2,"method":"eth_call","params":[{}]}]`),
		[]byte(`[]`), []byte(`[1,2]`), []byte(`{"jsonrpc":"2.0","id":{},"method":"eth_call","params":[{}]}`),
		[]byte(`{"jsonrpc":"2.0","method":"eth_chainId"}`), []byte("\x00\xff"),
	)
	return out
}

// FuzzRPCHandler: any body, on the node's HTTP handler.
func FuzzRPCHandler(f *testing.F) {
	for _, s := range rpcSeeds() {
		f.Add(s)
	}
	h := rpcHandlerForFuzz(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		serveRPC(t, h, "application/json", body)
	})
}

// FuzzRPCMethodParams fuzzes one method's parameters at a time, so the
// fuzzer spends its effort inside handlers' argument decoding rather than
// on the envelope.
func FuzzRPCMethodParams(f *testing.F) {
	for i := range rpcSeedMethods {
		for j, a := range rpcSeedArgs {
			if (i+j)%3 == 0 {
				f.Add(uint8(i), []byte(a))
			}
		}
	}
	h := rpcHandlerForFuzz(f)
	f.Fuzz(func(t *testing.T, method uint8, params []byte) {
		m := rpcSeedMethods[int(method)%len(rpcSeedMethods)]
		if strings.HasPrefix(m, "evm_") || strings.HasPrefix(m, "anvil_") {
			// Cheat codes change the node for later inputs; they are
			// covered by FuzzRPCHandler and TestNoMethodPanics.
			m = "eth_getLogs"
		}
		body := fmt.Appendf(nil, `{"jsonrpc":"2.0","id":1,"method":%q,"params":`, m)
		body = append(body, params...)
		body = append(body, '}')
		serveRPC(t, h, "application/json", body)
	})
}
