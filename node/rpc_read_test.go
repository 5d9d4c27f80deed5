package node

import (
	"encoding/json"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethdb/memorydb"
	"github.com/ethereum/go-ethereum/rpc"
	"github.com/ethereum/go-ethereum/trie"
)

// TestCallWithOverrides: eth_call at a block, with state overrides (code,
// balance, storage) and block overrides (time, number).
func TestCallWithOverrides(t *testing.T) {
	tn := newTestNode(t)
	clock := tn.deploy(initCode(clockCode))
	probe := common.HexToAddress("0x00000000000000000000000000000000000c0de0")
	word := func(b hexutil.Bytes) uint64 { return new(big.Int).SetBytes(b).Uint64() }
	var out hexutil.Bytes
	tn.call(&out, "eth_call", map[string]any{"to": clock}, "latest", nil, map[string]any{"time": "0x1234"})
	if word(out) != 0x1234 {
		t.Fatalf("block override time: %x", out)
	}
	// Code override at an empty address: NUMBER returned.
	number := common.FromHex("0x4360005260206000f3")
	tn.call(&out, "eth_call", map[string]any{"to": probe}, "latest",
		map[string]any{probe.Hex(): map[string]any{"code": hexutil.Bytes(number)}}, map[string]any{"number": "0x99"})
	if word(out) != 0x99 {
		t.Fatalf("code + number override: %x", out)
	}
	// Storage override: SLOAD(0) returned.
	sload := common.FromHex("0x60005460005260206000f3")
	tn.call(&out, "eth_call", map[string]any{"to": probe}, nil,
		map[string]any{probe.Hex(): map[string]any{"code": hexutil.Bytes(sload), "state": map[string]string{"0x0000000000000000000000000000000000000000000000000000000000000000": "0x000000000000000000000000000000000000000000000000000000000000002a"}}})
	if word(out) != 0x2a {
		t.Fatalf("state override: %x", out)
	}
	if err := tn.callErr("eth_call", map[string]any{"to": probe}, "latest", map[string]any{probe.Hex(): map[string]any{"state": map[string]string{}, "stateDiff": map[string]string{}}}); !strings.Contains(err.Error(), "both 'state' and 'stateDiff'") {
		t.Fatalf("state and stateDiff: %v", err)
	}
	// At genesis the clock contract does not exist yet.
	tn.call(&out, "eth_call", map[string]any{"to": clock}, "0x0")
	if len(out) != 0 {
		t.Fatalf("call at genesis returned %x", out)
	}
	// A revert carries its reason and data, code 3.
	reverter := tn.deploy(initCode(reverterCode))
	err := tn.callErr("eth_call", map[string]any{"to": reverter}, "latest")
	var de rpc.DataError
	if !strings.Contains(err.Error(), "execution reverted: nope") || !asDataError(err, &de) || !strings.HasPrefix(de.ErrorData().(string), "0x08c379a0") {
		t.Fatalf("revert: %v", err)
	}
}

func asDataError(err error, target *rpc.DataError) bool {
	de, ok := err.(rpc.DataError)
	if ok {
		*target = de
	}
	return ok
}

// TestEstimateGas: exact for a transfer, enough for a storage write, and a
// revert reports its reason.
func TestEstimateGas(t *testing.T) {
	tn := newTestNode(t)
	var gas hexutil.Uint64
	tn.call(&gas, "eth_estimateGas", map[string]any{"from": tn.addr(0), "to": tn.addr(1), "value": "0x1"})
	if gas != 21000 {
		t.Fatalf("transfer: %d", gas)
	}
	counter := tn.deploy(initCode(counterCode))
	tn.call(&gas, "eth_estimateGas", map[string]any{"from": tn.addr(0), "to": counter})
	// Send with exactly the estimate: it must succeed.
	tx := tn.signed(0, tn.nonce(tn.addr(0)), &counter, nil, uint64(gas), nil)
	tn.mustSend(tx)
	if r := tn.receipt(tx.Hash()); r == nil || r.Status != 1 {
		t.Fatalf("estimate %d too low: %+v", gas, r)
	}
	reverter := tn.deploy(initCode(reverterCode))
	if err := tn.callErr("eth_estimateGas", map[string]any{"from": tn.addr(0), "to": reverter}); !strings.Contains(err.Error(), "execution reverted: nope") {
		t.Fatalf("revert: %v", err)
	}
	poor := common.HexToAddress("0x0000000000000000000000000000000000000bad")
	if err := tn.callErr("eth_estimateGas", map[string]any{"from": poor, "to": tn.addr(1), "value": "0x1", "gasPrice": "0x1"}); !strings.Contains(err.Error(), "insufficient funds") {
		t.Fatalf("poor sender: %v", err)
	}
}

// TestFillAndAccessList: eth_fillTransaction's defaults and
// eth_createAccessList's list for a storage write.
func TestFillAndAccessList(t *testing.T) {
	tn := newTestNode(t)
	counter := tn.deploy(initCode(counterCode))
	var filled struct {
		Raw hexutil.Bytes `json:"raw"`
		Tx  struct {
			Nonce   hexutil.Uint64 `json:"nonce"`
			Gas     hexutil.Uint64 `json:"gas"`
			Type    hexutil.Uint64 `json:"type"`
			FeeCap  *hexutil.Big   `json:"maxFeePerGas"`
			ChainID *hexutil.Big   `json:"chainId"`
		} `json:"tx"`
	}
	tn.call(&filled, "eth_fillTransaction", map[string]any{"from": tn.addr(0), "to": counter})
	if filled.Tx.Nonce != 1 || filled.Tx.Gas < 21000 || filled.Tx.Type != 2 || filled.Tx.FeeCap == nil || len(filled.Raw) == 0 {
		t.Fatalf("filled %+v", filled.Tx)
	}
	var al struct {
		AccessList types.AccessList `json:"accessList"`
		GasUsed    hexutil.Uint64   `json:"gasUsed"`
	}
	tn.call(&al, "eth_createAccessList", map[string]any{"from": tn.addr(0), "to": counter})
	// The target itself is excluded (it is warm anyway): an empty list.
	if al.GasUsed == 0 || al.AccessList == nil {
		t.Fatalf("access list %+v", al)
	}
	// A proxy that calls the counter puts the counter and its slot in the list.
	proxy := common.FromHex("0x600080808080" + "73" + strings.TrimPrefix(counter.Hex(), "0x") + "5af100")
	p := tn.deploy(initCode(proxy))
	tn.call(&al, "eth_createAccessList", map[string]any{"from": tn.addr(0), "to": p})
	if len(al.AccessList) != 1 || al.AccessList[0].Address != counter || len(al.AccessList[0].StorageKeys) != 1 {
		t.Fatalf("access list via proxy %+v", al.AccessList)
	}
}

// TestFees: eth_gasPrice, eth_maxPriorityFeePerGas and eth_feeHistory
// with float percentiles.
func TestFees(t *testing.T) {
	tn := newTestNode(t)
	to := tn.addr(1)
	for i := uint64(0); i < 3; i++ {
		tn.mustSend(tn.signed(0, i, &to, big.NewInt(1), 21000, nil))
	}
	var tip, price hexutil.Big
	tn.call(&tip, "eth_maxPriorityFeePerGas")
	tn.call(&price, "eth_gasPrice")
	if tip.ToInt().Sign() <= 0 || price.ToInt().Cmp(tip.ToInt()) <= 0 {
		t.Fatalf("tip %v price %v", tip.ToInt(), price.ToInt())
	}
	var fh struct {
		OldestBlock  hexutil.Uint64   `json:"oldestBlock"`
		BaseFee      []*hexutil.Big   `json:"baseFeePerGas"`
		GasUsedRatio []float64        `json:"gasUsedRatio"`
		Reward       [][]*hexutil.Big `json:"reward"`
	}
	tn.call(&fh, "eth_feeHistory", "0x3", "latest", []float64{12.5, 50, 99.9})
	if fh.OldestBlock != 1 || len(fh.BaseFee) != 4 || len(fh.GasUsedRatio) != 3 || len(fh.Reward) != 3 || len(fh.Reward[0]) != 3 {
		t.Fatalf("fee history %+v", fh)
	}
	if fh.Reward[2][1].ToInt().Cmp(big.NewInt(1e9)) != 0 {
		t.Fatalf("median reward %v, want the 1 gwei tip paid", fh.Reward[2][1].ToInt())
	}
	fh.Reward = nil
	tn.call(&fh, "eth_feeHistory", 10, "latest", nil)
	if fh.OldestBlock != 0 || len(fh.BaseFee) != 5 || fh.Reward != nil {
		t.Fatalf("decimal count, no percentiles: %+v", fh)
	}
	if err := tn.callErr("eth_feeHistory", "0x2", "latest", []float64{60, 50}); !strings.Contains(err.Error(), "invalid reward percentile") {
		t.Fatalf("decreasing percentiles: %v", err)
	}
}

// TestLogsAndFilters: eth_getLogs by address and topic, polling filters,
// and block filters.
func TestLogsAndFilters(t *testing.T) {
	tn := newTestNode(t)
	var logFilter, blockFilter rpc.ID
	tn.call(&logFilter, "eth_newFilter", map[string]any{"topics": []any{logTopic}})
	tn.call(&blockFilter, "eth_newBlockFilter")
	emitter := tn.deploy(initCode(loggerCode))
	tx := tn.signed(0, tn.nonce(tn.addr(0)), &emitter, nil, 100_000, nil)
	tn.mustSend(tx)
	r := tn.receipt(tx.Hash())
	if len(r.Logs) != 1 || r.Logs[0].Topics[0] != logTopic || r.Logs[0].BlockHash != r.BlockHash {
		t.Fatalf("receipt logs %+v", r.Logs)
	}
	for _, q := range []map[string]any{
		{"address": emitter},
		{"address": []any{emitter, tn.addr(1)}, "fromBlock": "earliest", "toBlock": "latest"},
		{"topics": []any{[]any{logTopic, common.Hash{}}}},
		{"topics": []any{nil}},
		{"blockHash": r.BlockHash},
	} {
		var logs []types.Log
		tn.call(&logs, "eth_getLogs", q)
		if len(logs) != 1 || logs[0].TxHash != tx.Hash() || logs[0].Address != emitter {
			t.Fatalf("query %v: %+v", q, logs)
		}
	}
	var none []types.Log
	tn.call(&none, "eth_getLogs", map[string]any{"topics": []any{common.Hash{1}}, "fromBlock": "0x0"})
	if len(none) != 0 {
		t.Fatalf("non-matching topic: %+v", none)
	}
	if err := tn.callErr("eth_getLogs", map[string]any{"fromBlock": "0x5", "toBlock": "0x1"}); !strings.Contains(err.Error(), "invalid block range") {
		t.Fatalf("reversed range: %v", err)
	}
	// The filters see what happened after they were installed; the filter
	// system delivers asynchronously, so poll.
	deadline := time.Now().Add(5 * time.Second)
	var gotLogs []types.Log
	var gotBlocks []common.Hash
	for time.Now().Before(deadline) && (len(gotLogs) < 1 || len(gotBlocks) < 2) {
		var l []types.Log
		var b []common.Hash
		tn.call(&l, "eth_getFilterChanges", logFilter)
		tn.call(&b, "eth_getFilterChanges", blockFilter)
		gotLogs, gotBlocks = append(gotLogs, l...), append(gotBlocks, b...)
		time.Sleep(10 * time.Millisecond)
	}
	if len(gotLogs) != 1 || len(gotBlocks) != 2 {
		t.Fatalf("filter changes: %d logs, %d blocks", len(gotLogs), len(gotBlocks))
	}
	var all []types.Log
	tn.call(&all, "eth_getFilterLogs", logFilter)
	if len(all) != 1 {
		t.Fatalf("filter logs %d", len(all))
	}
	var removed bool
	tn.call(&removed, "eth_uninstallFilter", logFilter)
	if !removed {
		t.Fatal("uninstall")
	}
	if err := tn.callErr("eth_getFilterChanges", logFilter); !strings.Contains(err.Error(), "filter not found") {
		t.Fatalf("uninstalled: %v", err)
	}
}

// TestWebSocketSubscriptions: newHeads and logs over WebSocket on the HTTP
// port.
func TestWebSocketSubscriptions(t *testing.T) {
	tn := newTestNode(t)
	ctx := ctxT(t)
	ws, err := rpc.DialWebsocket(ctx, tn.WSURL(), "")
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	heads := make(chan json.RawMessage, 16)
	logs := make(chan types.Log, 16)
	hsub, err := ws.EthSubscribe(ctx, heads, "newHeads")
	if err != nil {
		t.Fatal(err)
	}
	defer hsub.Unsubscribe()
	lsub, err := ws.EthSubscribe(ctx, logs, "logs", map[string]any{"topics": []any{logTopic}})
	if err != nil {
		t.Fatal(err)
	}
	defer lsub.Unsubscribe()
	emitter := tn.deploy(initCode(loggerCode))
	tx := tn.signed(0, 1, &emitter, nil, 100_000, nil)
	tn.mustSend(tx)
	for i := 0; i < 2; i++ {
		select {
		case h := <-heads:
			var head struct {
				Number        hexutil.Uint64 `json:"number"`
				BaseFeePerGas *hexutil.Big   `json:"baseFeePerGas"`
			}
			if err := json.Unmarshal(h, &head); err != nil || uint64(head.Number) != uint64(i+1) || head.BaseFeePerGas == nil {
				t.Fatalf("head %d: %s", i, h)
			}
		case <-ctx.Done():
			t.Fatal("no newHeads notification")
		}
	}
	select {
	case l := <-logs:
		if l.TxHash != tx.Hash() {
			t.Fatalf("log %+v", l)
		}
	case <-ctx.Done():
		t.Fatal("no logs notification")
	}
}

// TestResponseShapes: the fields ethers, viem and cast read are present
// with the types they expect.
func TestResponseShapes(t *testing.T) {
	tn := newTestNode(t)
	to := tn.addr(1)
	tx := tn.signed(0, 0, &to, big.NewInt(1), 21000, nil)
	tn.mustSend(tx)
	var block map[string]any
	tn.call(&block, "eth_getBlockByNumber", "latest", true)
	for _, f := range []string{"baseFeePerGas", "withdrawalsRoot", "blobGasUsed", "excessBlobGas", "parentBeaconBlockRoot", "requestsHash", "mixHash", "nonce", "size", "transactions", "uncles", "withdrawals"} {
		if _, ok := block[f]; !ok {
			t.Errorf("block lacks %s", f)
		}
	}
	if w, ok := block["withdrawals"].([]any); !ok || len(w) != 0 {
		t.Errorf("withdrawals %v, want []", block["withdrawals"])
	}
	txs := block["transactions"].([]any)
	obj := txs[0].(map[string]any)
	for _, f := range []string{"yParity", "type", "chainId", "accessList", "maxFeePerGas", "maxPriorityFeePerGas", "gasPrice", "v", "r", "s", "blockHash", "transactionIndex", "input"} {
		if _, ok := obj[f]; !ok {
			t.Errorf("transaction lacks %s", f)
		}
	}
	var receipts []map[string]any
	tn.call(&receipts, "eth_getBlockReceipts", "latest")
	if len(receipts) != 1 {
		t.Fatalf("%d block receipts", len(receipts))
	}
	for _, f := range []string{"effectiveGasPrice", "status", "type", "logsBloom", "contractAddress", "cumulativeGasUsed", "from", "to"} {
		if _, ok := receipts[0][f]; !ok {
			t.Errorf("receipt lacks %s", f)
		}
	}
	if p, ok := receipts[0]["effectiveGasPrice"].(string); !ok || p == "0x0" {
		t.Errorf("effectiveGasPrice %v", receipts[0]["effectiveGasPrice"])
	}
	if receipts[0]["contractAddress"] != nil {
		t.Errorf("contractAddress %v, want null", receipts[0]["contractAddress"])
	}
	var missing map[string]any
	tn.call(&missing, "eth_getBlockByNumber", "0x99", false)
	if missing != nil {
		t.Errorf("unknown block: %v", missing)
	}
	var version, netVersion string
	tn.call(&version, "web3_clientVersion")
	tn.call(&netVersion, "net_version")
	if !strings.HasPrefix(version, "infergeth/") || netVersion != "31337" {
		t.Errorf("versions %q %q", version, netVersion)
	}
}

// TestTracing: debug_traceTransaction and debug_traceCall with callTracer,
// prestateTracer and the default struct logger.
func TestTracing(t *testing.T) {
	tn := newTestNode(t)
	counter := tn.deploy(initCode(counterCode))
	tx := tn.signed(0, 1, &counter, nil, 100_000, nil)
	tn.mustSend(tx)
	var call struct {
		Type    string         `json:"type"`
		From    common.Address `json:"from"`
		To      common.Address `json:"to"`
		GasUsed hexutil.Uint64 `json:"gasUsed"`
	}
	tn.call(&call, "debug_traceTransaction", tx.Hash(), map[string]any{"tracer": "callTracer"})
	if call.Type != "CALL" || call.From != tn.addr(0) || call.To != counter || call.GasUsed == 0 {
		t.Fatalf("callTracer %+v", call)
	}
	var pre map[common.Address]struct {
		Storage map[common.Hash]common.Hash `json:"storage"`
	}
	tn.call(&pre, "debug_traceTransaction", tx.Hash(), map[string]any{"tracer": "prestateTracer"})
	if _, ok := pre[tn.addr(0)]; !ok {
		t.Fatalf("prestate lacks the sender: %v", pre)
	}
	if _, ok := pre[counter]; !ok {
		t.Fatalf("prestate lacks the contract: %v", pre)
	}
	var diff struct {
		Post map[common.Address]struct {
			Storage map[common.Hash]common.Hash `json:"storage"`
		} `json:"post"`
	}
	tn.call(&diff, "debug_traceTransaction", tx.Hash(), map[string]any{"tracer": "prestateTracer", "tracerConfig": map[string]any{"diffMode": true}})
	if diff.Post[counter].Storage[common.Hash{}] != common.BigToHash(big.NewInt(1)) {
		t.Fatalf("diff mode post %+v", diff.Post)
	}
	var logs struct {
		Gas        uint64            `json:"gas"`
		StructLogs []json.RawMessage `json:"structLogs"`
	}
	tn.call(&logs, "debug_traceTransaction", tx.Hash())
	if len(logs.StructLogs) != 7 { // PUSH1 PUSH1 SLOAD ADD PUSH1 SSTORE STOP
		t.Fatalf("struct logs: %d ops", len(logs.StructLogs))
	}
	var traced struct {
		Type  string `json:"type"`
		Error string `json:"error"`
	}
	tn.call(&traced, "debug_traceCall", map[string]any{"from": tn.addr(0), "to": counter}, "latest", map[string]any{"tracer": "callTracer"})
	if traced.Type != "CALL" || traced.Error != "" {
		t.Fatalf("traceCall %+v", traced)
	}
	var block []struct {
		TxHash common.Hash `json:"txHash"`
	}
	tn.call(&block, "debug_traceBlockByNumber", "latest", map[string]any{"tracer": "callTracer"})
	if len(block) != 1 || block[0].TxHash != tx.Hash() {
		t.Fatalf("block trace %+v", block)
	}
}

// TestGetProof: eth_getProof's account and storage proofs verify against
// the state root.
func TestGetProof(t *testing.T) {
	tn := newTestNode(t)
	counter := tn.deploy(initCode(counterCode))
	tn.mustSend(tn.signed(0, 1, &counter, nil, 100_000, nil))
	var p struct {
		AccountProof []hexutil.Bytes `json:"accountProof"`
		StorageHash  common.Hash     `json:"storageHash"`
		StorageProof []struct {
			Key   string          `json:"key"`
			Value hexutil.Big     `json:"value"`
			Proof []hexutil.Bytes `json:"proof"`
		} `json:"storageProof"`
	}
	tn.call(&p, "eth_getProof", counter, []string{"0x0"}, "latest")
	var block struct {
		StateRoot common.Hash `json:"stateRoot"`
	}
	tn.call(&block, "eth_getBlockByNumber", "latest", false)
	db := memorydb.New()
	for _, node := range p.AccountProof {
		db.Put(crypto.Keccak256(node), node)
	}
	if _, err := trie.VerifyProof(block.StateRoot, crypto.Keccak256(counter.Bytes()), db); err != nil {
		t.Fatalf("account proof: %v", err)
	}
	sdb := memorydb.New()
	for _, node := range p.StorageProof[0].Proof {
		sdb.Put(crypto.Keccak256(node), node)
	}
	val, err := trie.VerifyProof(p.StorageHash, crypto.Keccak256(common.Hash{}.Bytes()), sdb)
	if err != nil || len(val) == 0 || p.StorageProof[0].Value.ToInt().Int64() != 1 || p.StorageProof[0].Key != "0x0" {
		t.Fatalf("storage proof: %x %v %+v", val, err, p.StorageProof[0])
	}
}
