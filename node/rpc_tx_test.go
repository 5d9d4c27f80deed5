package node

import (
	"math/big"
	"strings"
	"testing"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rpc"
)

// TestInvalidTransactionsRefused checks the error text of each refusal:
// client libraries match on geth's strings.
func TestInvalidTransactionsRefused(t *testing.T) {
	tn := newTestNode(t)
	to := tn.addr(1)
	// Pending transactions (automine off) for "already known" and replacement.
	tn.call(nil, "evm_setAutomine", false)
	pending := tn.signed(0, 0, &to, big.NewInt(1), 21000, nil)
	tn.mustSend(pending)
	poor, _ := types.SignNewTx(tn.key(0), types.LatestSignerForChainID(tn.chainID()), &types.DynamicFeeTx{
		ChainID: tn.chainID(), Nonce: 1, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9), Gas: 21000, To: &to,
		Value: new(big.Int).Mul(big.NewInt(20000), big.NewInt(1e18)),
	})
	wrongChain, _ := types.SignNewTx(tn.key(0), types.LatestSignerForChainID(big.NewInt(1)), &types.DynamicFeeTx{
		ChainID: big.NewInt(1), Nonce: 1, GasTipCap: big.NewInt(1e9), GasFeeCap: big.NewInt(10e9), Gas: 21000, To: &to,
	})
	cheap, _ := types.SignNewTx(tn.key(0), types.LatestSignerForChainID(tn.chainID()), &types.DynamicFeeTx{
		ChainID: tn.chainID(), Nonce: 1, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(1), Gas: 21000, To: &to,
	})
	replacement, _ := types.SignNewTx(tn.key(0), types.LatestSignerForChainID(tn.chainID()), &types.DynamicFeeTx{
		ChainID: tn.chainID(), Nonce: 0, GasTipCap: big.NewInt(1e9 + 1), GasFeeCap: big.NewInt(10e9 + 1), Gas: 21000, To: &to, Value: big.NewInt(2),
	})
	for _, tc := range []struct {
		name string
		tx   *types.Transaction
		want string
	}{
		{"already known", pending, "already known"},
		{"replacement underpriced", replacement, "replacement transaction underpriced"},
		{"insufficient funds", poor, "insufficient funds for gas * price + value"},
		{"chain id mismatch", wrongChain, "invalid sender"},
		{"intrinsic gas", tn.signed(0, 1, &to, nil, 20000, nil), "intrinsic gas too low"},
		{"fee cap below base fee", cheap, "max fee per gas less than block base fee"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := tn.sendRaw(tc.tx)
			if err == nil || !strings.HasPrefix(err.Error(), tc.want) {
				t.Fatalf("error %v, want prefix %q", err, tc.want)
			}
		})
	}
	tn.call(nil, "evm_setAutomine", true) // mines the pending transaction
	t.Run("nonce too low", func(t *testing.T) {
		if tn.receipt(pending.Hash()) == nil {
			t.Fatal("pending transaction not mined when automine resumed")
		}
		err := tn.sendRaw(tn.signed(0, 0, &to, big.NewInt(1), 21000, nil))
		if err == nil || !strings.HasPrefix(err.Error(), "nonce too low") {
			t.Fatalf("error %v", err)
		}
	})
	t.Run("bad signature", func(t *testing.T) {
		var hash common.Hash
		err := tn.rpc.Call(&hash, "eth_sendRawTransaction", hexutil.Bytes{0x02, 0xc0})
		if err == nil {
			t.Fatal("garbage accepted")
		}
	})
}

// TestAutomineReceiptAtOnce: with a block per transaction, the receipt
// exists when eth_sendRawTransaction returns, in its own block.
func TestAutomineReceiptAtOnce(t *testing.T) {
	tn := newTestNode(t)
	to := tn.addr(1)
	for i := uint64(0); i < 3; i++ {
		tx := tn.signed(0, i, &to, big.NewInt(1), 21000, nil)
		tn.mustSend(tx)
		r := tn.receipt(tx.Hash())
		if r == nil || r.Status != 1 || uint64(r.BlockNumber) != i+1 {
			t.Fatalf("tx %d: receipt %+v", i, r)
		}
	}
}

// TestSendTransactionFromDevAccount: eth_sendTransaction signs with the
// development account's key and fills nonce, gas and fees.
func TestSendTransactionFromDevAccount(t *testing.T) {
	tn := newTestNode(t)
	var hash common.Hash
	tn.call(&hash, "eth_sendTransaction", map[string]any{"from": tn.addr(0), "to": tn.addr(1), "value": "0x5"})
	r := tn.receipt(hash)
	if r == nil || r.Status != 1 || r.From != tn.addr(0) {
		t.Fatalf("receipt %+v", r)
	}
	var tx struct {
		From    common.Address  `json:"from"`
		Type    hexutil.Uint64  `json:"type"`
		YParity *hexutil.Uint64 `json:"yParity"`
		ChainID *hexutil.Big    `json:"chainId"`
	}
	tn.call(&tx, "eth_getTransactionByHash", hash)
	if tx.From != tn.addr(0) || tx.Type != 2 || tx.YParity == nil || tx.ChainID.ToInt().Cmp(tn.chainID()) != 0 {
		t.Fatalf("transaction %+v", tx)
	}
	err := tn.callErr("eth_sendTransaction", map[string]any{"from": common.HexToAddress("0x1234"), "to": tn.addr(1)})
	if !strings.Contains(err.Error(), "unknown account") {
		t.Fatalf("unknown sender: %v", err)
	}
}

// TestImpersonation: after anvil_impersonateAccount, eth_sendTransaction
// from an account without a key is mined as that account, and every RPC
// answer names it; stopping impersonation refuses it again.
func TestImpersonation(t *testing.T) {
	tn := newTestNode(t)
	whale := common.HexToAddress("0x00000000000000000000000000000000000b0b0b")
	tn.call(nil, "anvil_setBalance", whale, "0xde0b6b3a7640000")
	tn.call(nil, "hardhat_impersonateAccount", whale)
	var hash common.Hash
	tn.call(&hash, "eth_sendTransaction", map[string]any{"from": whale, "to": tn.addr(1), "value": "0x7"})
	r := tn.receipt(hash)
	if r == nil || r.Status != 1 || r.From != whale {
		t.Fatalf("receipt %+v", r)
	}
	var tx struct {
		From common.Address `json:"from"`
	}
	tn.call(&tx, "eth_getTransactionByHash", hash)
	if tx.From != whale {
		t.Fatalf("transaction from %s", tx.From)
	}
	var nonce hexutil.Uint64
	tn.call(&nonce, "eth_getTransactionCount", whale, "latest")
	if nonce != 1 {
		t.Fatalf("impersonated nonce %d", nonce)
	}
	var trace struct {
		From common.Address `json:"from"`
	}
	tn.call(&trace, "debug_traceTransaction", hash, map[string]any{"tracer": "callTracer"})
	if trace.From != whale {
		t.Fatalf("trace from %s", trace.From)
	}
	tn.call(nil, "anvil_stopImpersonatingAccount", whale)
	if err := tn.callErr("eth_sendTransaction", map[string]any{"from": whale, "to": tn.addr(1)}); !strings.Contains(err.Error(), "unknown account") {
		t.Fatalf("after stop: %v", err)
	}
}

// TestStateEdits: anvil_/hardhat_ setBalance, setNonce, setCode,
// setStorageAt are visible at "latest" and to the next block.
func TestStateEdits(t *testing.T) {
	tn := newTestNode(t)
	a := common.HexToAddress("0x00000000000000000000000000000000000a11ce")
	tn.call(nil, "anvil_setBalance", a, "0x100")
	tn.call(nil, "hardhat_setNonce", a, "0x5")
	tn.call(nil, "anvil_setCode", a, hexutil.Bytes(clockCode))
	tn.call(nil, "anvil_setStorageAt", a, "0x1", common.HexToHash("0x2a"))
	var bal hexutil.Big
	tn.call(&bal, "eth_getBalance", a, "latest")
	var nonce hexutil.Uint64
	tn.call(&nonce, "eth_getTransactionCount", a, "latest")
	var code, slot hexutil.Bytes
	tn.call(&code, "eth_getCode", a, "latest")
	tn.call(&slot, "eth_getStorageAt", a, "0x1", "latest")
	if bal.ToInt().Int64() != 0x100 || nonce != 5 || len(code) != len(clockCode) || common.BytesToHash(slot) != common.HexToHash("0x2a") {
		t.Fatalf("balance %v nonce %d code %x slot %x", bal.ToInt(), nonce, code, slot)
	}
	// The next block builds on the edited state.
	tn.call(nil, "evm_mine")
	tn.call(&bal, "eth_getBalance", a, "latest")
	if bal.ToInt().Int64() != 0x100 {
		t.Fatalf("balance after a block %v", bal.ToInt())
	}
	// The edit is not visible in the block's history before it.
	tn.call(&bal, "eth_getBalance", a, "0x0")
	if bal.ToInt().Sign() != 0 {
		t.Fatalf("genesis balance %v", bal.ToInt())
	}
}

// TestSnapshotRevert: evm_revert drops later blocks and state edits and
// restores the time offset.
func TestSnapshotRevert(t *testing.T) {
	tn := newTestNode(t)
	var id hexutil.Uint64
	tn.call(&id, "evm_snapshot")
	to := tn.addr(1)
	tx := tn.signed(0, 0, &to, big.NewInt(1), 21000, nil)
	tn.mustSend(tx)
	tn.call(nil, "anvil_setBalance", to, "0x1")
	var ok bool
	tn.call(&ok, "evm_revert", id)
	if !ok {
		t.Fatal("revert refused")
	}
	var number hexutil.Uint64
	tn.call(&number, "eth_blockNumber")
	if number != 0 || tn.receipt(tx.Hash()) != nil {
		t.Fatalf("after revert: block %d, receipt still there", number)
	}
	var bal hexutil.Big
	tn.call(&bal, "eth_getBalance", to, "latest")
	if bal.ToInt().Cmp(new(big.Int).Mul(big.NewInt(10000), big.NewInt(1e18))) != 0 {
		t.Fatalf("balance after revert %v", bal.ToInt())
	}
	tn.call(&ok, "evm_revert", id)
	if ok {
		t.Fatal("a snapshot reverted twice")
	}
	// The same transaction can be sent again.
	tn.mustSend(tx)
	if r := tn.receipt(tx.Hash()); r == nil || r.BlockNumber != 1 {
		t.Fatalf("resent: %+v", r)
	}
}

// TestTimeControl: increaseTime, setNextBlockTimestamp and evm_mine with a
// timestamp move block.timestamp as a contract sees it.
func TestTimeControl(t *testing.T) {
	tn := newTestNode(t)
	clock := tn.deploy(initCode(clockCode))
	timestamp := func() uint64 {
		var out hexutil.Bytes
		tn.call(&out, "eth_call", map[string]any{"to": clock}, "latest")
		return new(big.Int).SetBytes(out).Uint64()
	}
	head := func() uint64 {
		var b struct {
			Timestamp hexutil.Uint64 `json:"timestamp"`
		}
		tn.call(&b, "eth_getBlockByNumber", "latest", false)
		return uint64(b.Timestamp)
	}
	start := head()
	tn.call(nil, "evm_increaseTime", 3600)
	tn.call(nil, "evm_mine")
	if got := head(); got < start+3600 || got > start+3600+60 {
		t.Fatalf("after +3600s: %d, start %d", got, start)
	}
	next := head() + 1000
	tn.call(nil, "evm_setNextBlockTimestamp", hexutil.Uint64(next))
	tn.call(nil, "evm_mine")
	if got := timestamp(); got != next {
		t.Fatalf("contract sees %d, want %d", got, next)
	}
	tn.call(nil, "evm_mine", hexutil.Uint64(next+50))
	if got := head(); got != next+50 {
		t.Fatalf("evm_mine(ts): %d", got)
	}
	// Time continues from an explicit timestamp.
	tn.call(nil, "evm_mine")
	if got := head(); got < next+50 || got > next+50+60 {
		t.Fatalf("after explicit timestamp: %d", got)
	}
	if err := tn.callErr("evm_setNextBlockTimestamp", hexutil.Uint64(start)); !strings.Contains(err.Error(), "lower than the previous block") {
		t.Fatalf("timestamp in the past: %v", err)
	}
}

var _ = rpc.LatestBlockNumber

// TestSignTypedData: eth_signTypedData_v4 signs the EIP-712 hash with the
// account's key (EIP-712's own example message).
func TestSignTypedData(t *testing.T) {
	tn := newTestNode(t)
	typed := `{"types":{"EIP712Domain":[{"name":"name","type":"string"},{"name":"version","type":"string"},{"name":"chainId","type":"uint256"},{"name":"verifyingContract","type":"address"}],
"Person":[{"name":"name","type":"string"},{"name":"wallet","type":"address"}],
"Mail":[{"name":"from","type":"Person"},{"name":"to","type":"Person"},{"name":"contents","type":"string"}]},
"primaryType":"Mail","domain":{"name":"Ether Mail","version":"1","chainId":1,"verifyingContract":"0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"},
"message":{"from":{"name":"Cow","wallet":"0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"},"to":{"name":"Bob","wallet":"0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"},"contents":"Hello, Bob!"}}`
	var sig hexutil.Bytes
	tn.call(&sig, "eth_signTypedData_v4", tn.addr(0), typed)
	// EIP-712's example hash of this message.
	hash := common.FromHex("0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2")
	if len(sig) != 65 || sig[64] < 27 {
		t.Fatalf("signature %x", sig)
	}
	sig[64] -= 27
	pub, err := crypto.SigToPub(hash, sig)
	if err != nil || crypto.PubkeyToAddress(*pub) != tn.addr(0) {
		t.Fatalf("signature recovers to %v (%v)", pub, err)
	}
}

// TestDatadirKeepsImpersonatedSenders: a restarted node still names the
// impersonated sender of a mined transaction, and still traces a block
// built on an edited state.
func TestDatadirKeepsImpersonatedSenders(t *testing.T) {
	dir := t.TempDir()
	whale := common.HexToAddress("0x00000000000000000000000000000000000b0b0b")
	var hash common.Hash
	{
		tn := newTestNode(t, func(c *Config) { c.DataDir = dir })
		tn.call(nil, "anvil_setBalance", whale, "0xde0b6b3a7640000")
		tn.call(nil, "anvil_impersonateAccount", whale)
		tn.call(&hash, "eth_sendTransaction", map[string]any{"from": whale, "to": tn.addr(1), "value": "0x7"})
		if err := tn.Close(); err != nil {
			t.Fatal(err)
		}
	}
	tn := newTestNode(t, func(c *Config) { c.DataDir = dir })
	r := tn.receipt(hash)
	if r == nil || r.From != whale || r.Status != 1 {
		t.Fatalf("after restart: %+v", r)
	}
	var trace struct {
		From common.Address `json:"from"`
	}
	tn.call(&trace, "debug_traceTransaction", hash, map[string]any{"tracer": "callTracer"})
	if trace.From != whale {
		t.Fatalf("trace after restart from %s", trace.From)
	}
}

// TestImpersonationWithoutAutomine: impersonated transactions wait for
// the next block like pooled ones, and count in the pending nonce.
func TestImpersonationWithoutAutomine(t *testing.T) {
	tn := newTestNode(t)
	whale := common.HexToAddress("0x00000000000000000000000000000000000b0b0b")
	tn.call(nil, "anvil_setBalance", whale, "0xde0b6b3a7640000")
	tn.call(nil, "anvil_impersonateAccount", whale)
	tn.call(nil, "evm_setAutomine", false)
	var h1, h2 common.Hash
	tn.call(&h1, "eth_sendTransaction", map[string]any{"from": whale, "to": tn.addr(1), "value": "0x1"})
	tn.call(&h2, "eth_sendTransaction", map[string]any{"from": whale, "to": tn.addr(1), "value": "0x2"})
	if n := tn.nonce(whale); n != 2 {
		t.Fatalf("pending nonce %d, want 2", n)
	}
	if tn.receipt(h1) != nil {
		t.Fatal("mined without automine")
	}
	tn.call(nil, "evm_mine")
	r1, r2 := tn.receipt(h1), tn.receipt(h2)
	if r1 == nil || r2 == nil || r1.BlockNumber != r2.BlockNumber || r1.Status != 1 || r2.Status != 1 {
		t.Fatalf("receipts %+v %+v", r1, r2)
	}
}
