package crash

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ecdsa"
	"encoding/json"
	"fmt"
	"io"
	"math/big"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/common/hexutil"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
)

const (
	chainID = 31337
	// devKey is account 0 of the test mnemonic, funded by the devnet.
	devKey = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
	rounds = 4
)

// counterInit deploys a contract whose every call increments storage slot 0:
// runtime PUSH1 1 PUSH1 0 SLOAD ADD PUSH1 0 SSTORE STOP.
var counterInit = common.FromHex("0x6009600c60003960096000f3600160005401600055")

// seen is a receipt the node returned.
type seen struct {
	block  common.Hash
	number uint64
	status uint64
}

func TestKillNineKeepsReceipts(t *testing.T) {
	bin := buildBinary(t)
	dir := t.TempDir()
	key, _ := crypto.HexToECDSA(devKey)
	from := crypto.PubkeyToAddress(key.PublicKey)
	signer := types.LatestSignerForChainID(big.NewInt(chainID))
	rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))

	receipts := make(map[common.Hash]seen)
	var counter common.Address
	// edited is set with anvil_setBalance now and then (a state edit with no
	// block); editAcked is the last value the node acknowledged.
	edited := common.HexToAddress("0x00000000000000000000000000000000000ed17e")
	var editAcked uint64
	for round := 0; round < rounds; round++ {
		n := start(t, bin, dir)
		c := &client{url: n.url}
		verify(t, c, receipts, from, counter)
		verifyEdit(t, c, edited, editAcked)
		nonce := c.nonce(t, from, "pending")
		if round == 0 {
			tx := sign(t, signer, key, &types.LegacyTx{Nonce: nonce, GasPrice: big.NewInt(2e9), Gas: 100_000, Data: counterInit})
			r := c.send(t, tx)
			receipts[tx.Hash()] = r
			counter = crypto.CreateAddress(from, nonce)
			nonce++
		}
		// Stream transactions until the kill, recording every receipt the
		// node returned; the kill lands at a random moment.
		killAfter := time.Duration(100+rng.IntN(400)) * time.Millisecond
		var (
			mu      sync.Mutex
			stopped = make(chan struct{})
		)
		go func() {
			time.Sleep(killAfter)
			if round == rounds-1 {
				n.cmd.Process.Signal(syscall.SIGTERM) // the last round shuts down gracefully
			} else {
				n.cmd.Process.Kill()
			}
			close(stopped)
		}()
		sent := 0
		for {
			to := common.Address{byte(1 + nonce%5)}
			data := []byte(nil)
			if nonce%3 == 0 {
				to, data = counter, []byte{1}
			}
			tx := sign(t, signer, key, &types.DynamicFeeTx{
				ChainID: big.NewInt(chainID), Nonce: nonce, GasTipCap: big.NewInt(1), GasFeeCap: big.NewInt(5e9),
				Gas: 60_000, To: &to, Value: big.NewInt(1000), Data: data,
			})
			if nonce%40 == 0 {
				if err := c.rawCall("anvil_setBalance", []any{edited, hexutil.Uint64(nonce)}, nil); err != nil {
					break // the node is gone
				}
				editAcked = nonce
			}
			r, err := c.trySend(tx)
			if err != nil {
				break // the node is gone
			}
			mu.Lock()
			receipts[tx.Hash()] = r
			mu.Unlock()
			nonce++
			sent++
		}
		<-stopped
		n.wait()
		t.Logf("round %d: killed after %v, %d transactions confirmed this round, %d in all", round, killAfter, sent, len(receipts))
		if sent == 0 && round < rounds-1 {
			t.Logf("round %d: the kill came before any transaction", round)
		}
	}
	// A run where the node died at once each time would check nothing.
	if len(receipts) < 50 || editAcked == 0 {
		t.Fatalf("only %d receipts and edit %d over %d rounds: the stream did not run", len(receipts), editAcked, rounds)
	}
	n := start(t, bin, dir)
	verify(t, &client{url: n.url}, receipts, from, counter)
	verifyEdit(t, &client{url: n.url}, edited, editAcked)
	n.cmd.Process.Signal(syscall.SIGTERM)
	n.wait()
}

// checkReceiptKept checks that the receipt acknowledged before a kill is
// still there after the restart, unchanged, at or below the head.
func checkReceiptKept(t *testing.T, c *client, hash common.Hash, want seen, head uint64) {
	t.Helper()
	var got *struct {
		BlockHash   common.Hash    `json:"blockHash"`
		BlockNumber hexutil.Uint64 `json:"blockNumber"`
		Status      hexutil.Uint64 `json:"status"`
	}
	c.call(t, "eth_getTransactionReceipt", []any{hash}, &got)
	if got == nil {
		t.Fatalf("receipt of %x (block %d) lost after restart", hash, want.number)
	}
	if got.BlockHash != want.block || uint64(got.BlockNumber) != want.number || uint64(got.Status) != want.status {
		t.Fatalf("receipt of %x changed: block %x #%d status %d, was %x #%d status %d",
			hash, got.BlockHash, got.BlockNumber, got.Status, want.block, want.number, want.status)
	}
	if want.number > head {
		t.Fatalf("receipt in block %d above head %d after restart", want.number, head)
	}
}

// verify checks the restarted node: every receipt seen before is there,
// unchanged; the head's state is readable and agrees with the blocks.
func verify(t *testing.T, c *client, receipts map[common.Hash]seen, from, counter common.Address) {
	t.Helper()
	head := c.blockNumber(t)
	for hash, want := range receipts {
		checkReceiptKept(t, c, hash, want, head)
	}
	// Replay the chain's transactions and compare with the head state.
	var txs, increments uint64
	balances := make(map[common.Address]*big.Int)
	for num := uint64(1); num <= head; num++ {
		var b struct {
			Transactions []struct {
				From  common.Address  `json:"from"`
				To    *common.Address `json:"to"`
				Value *hexutil.Big    `json:"value"`
				Hash  common.Hash     `json:"hash"`
			} `json:"transactions"`
		}
		c.call(t, "eth_getBlockByNumber", []any{hexutil.Uint64(num), true}, &b)
		for _, tx := range b.Transactions {
			if tx.From != from {
				continue
			}
			txs++
			if tx.To == nil {
				continue
			}
			if *tx.To == counter {
				var r struct {
					Status hexutil.Uint64 `json:"status"`
				}
				c.call(t, "eth_getTransactionReceipt", []any{tx.Hash}, &r)
				if r.Status == 1 {
					increments++
				}
				continue
			}
			if balances[*tx.To] == nil {
				balances[*tx.To] = new(big.Int)
			}
			balances[*tx.To].Add(balances[*tx.To], tx.Value.ToInt())
		}
	}
	if got := c.nonce(t, from, "latest"); got != txs {
		t.Fatalf("head nonce of sender %d, blocks hold %d of its transactions", got, txs)
	}
	for addr, want := range balances {
		var got hexutil.Big
		c.call(t, "eth_getBalance", []any{addr, "latest"}, &got)
		if got.ToInt().Cmp(want) != 0 {
			t.Fatalf("balance of %s: %v, blocks sent it %v", addr, got.ToInt(), want)
		}
	}
	if counter != (common.Address{}) {
		var slot hexutil.Bytes
		c.call(t, "eth_getStorageAt", []any{counter, "0x0", "latest"}, &slot)
		if got := new(big.Int).SetBytes(slot); got.Uint64() != increments {
			t.Fatalf("counter %d, blocks hold %d successful increments", got, increments)
		}
	}
}

// verifyEdit checks that the last acknowledged state edit survived: the
// balance is that value, or a later edit's (sent, applied, not yet
// acknowledged when the node died), which are multiples of 40 above it.
func verifyEdit(t *testing.T, c *client, addr common.Address, acked uint64) {
	t.Helper()
	var got hexutil.Big
	c.call(t, "eth_getBalance", []any{addr, "latest"}, &got)
	v := got.ToInt().Uint64()
	if v < acked || (v-acked)%40 != 0 {
		t.Fatalf("edited balance %d, last acknowledged edit %d", v, acked)
	}
}

func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "infergeth")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/infergeth")
	cmd.Dir = filepath.Join("..", "..")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

type node struct {
	cmd    *exec.Cmd
	url    string
	log    *bytes.Buffer
	exited chan struct{}
}

func (n *node) wait() { <-n.exited }

// start runs the devnet on a free port and waits for its ready line.
func start(t *testing.T, bin, dir string) *node {
	t.Helper()
	cmd := exec.Command(bin, "devnet", "--datadir", dir, "--http.port", "0", "--silent")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	n := &node{cmd: cmd, log: &bytes.Buffer{}, exited: make(chan struct{})}
	cmd.Stderr = n.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if rest, ok := strings.CutPrefix(line, "infergeth devnet ready: "); ok {
				for _, f := range strings.Fields(rest) {
					if url, ok := strings.CutPrefix(f, "http="); ok {
						ready <- url
					}
				}
			}
		}
		io.Copy(io.Discard, stdout)
	}()
	go func() { cmd.Wait(); close(n.exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-n.exited
	})
	select {
	case n.url = <-ready:
		return n
	case <-n.exited:
		t.Fatalf("devnet exited before serving: %s", n.log)
	case <-time.After(20 * time.Second):
		t.Fatalf("devnet did not announce its URL: %s", n.log)
	}
	return nil
}

func sign(t *testing.T, signer types.Signer, key *ecdsa.PrivateKey, inner types.TxData) *types.Transaction {
	t.Helper()
	tx, err := types.SignNewTx(key, signer, inner)
	if err != nil {
		t.Fatal(err)
	}
	return tx
}

type client struct {
	url string
	id  int
}

func (c *client) rawCall(method string, params []any, out any) error {
	c.id++
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": c.id, "method": method, "params": params})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var r struct {
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&r); err != nil {
		return err
	}
	if r.Error != nil {
		return fmt.Errorf("%s: %s", method, r.Error.Message)
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(r.Result, out)
}

func (c *client) call(t *testing.T, method string, params []any, out any) {
	t.Helper()
	if err := c.rawCall(method, params, out); err != nil {
		t.Fatal(err)
	}
}

func (c *client) blockNumber(t *testing.T) uint64 {
	var n hexutil.Uint64
	c.call(t, "eth_blockNumber", nil, &n)
	return uint64(n)
}

func (c *client) nonce(t *testing.T, addr common.Address, block string) uint64 {
	var n hexutil.Uint64
	c.call(t, "eth_getTransactionCount", []any{addr, block}, &n)
	return uint64(n)
}

// trySend sends tx and reads its receipt, which a devnet mining a block per
// transaction has before eth_sendRawTransaction returns.
func (c *client) trySend(tx *types.Transaction) (seen, error) {
	raw, _ := tx.MarshalBinary()
	var hash common.Hash
	if err := c.rawCall("eth_sendRawTransaction", []any{hexutil.Bytes(raw)}, &hash); err != nil {
		return seen{}, err
	}
	var r *struct {
		BlockHash   common.Hash    `json:"blockHash"`
		BlockNumber hexutil.Uint64 `json:"blockNumber"`
		Status      hexutil.Uint64 `json:"status"`
	}
	if err := c.rawCall("eth_getTransactionReceipt", []any{hash}, &r); err != nil {
		return seen{}, err
	}
	if r == nil {
		return seen{}, fmt.Errorf("no receipt for %x right after sending", hash)
	}
	return seen{block: r.BlockHash, number: uint64(r.BlockNumber), status: uint64(r.Status)}, nil
}

func (c *client) send(t *testing.T, tx *types.Transaction) seen {
	t.Helper()
	r, err := c.trySend(tx)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

var _ = os.Getenv
