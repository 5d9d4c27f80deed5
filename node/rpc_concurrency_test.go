package node

import (
	"math/big"
	"sync"
	"testing"

	"github.com/ethereum/go-ethereum/common/hexutil"
)

// TestConcurrentSendsAndCalls: senders on three accounts and eth_callers at
// once; every transaction is mined exactly once and nonces end where they
// should. Run with -race to check the locking of chain, pool and sequencer.
func TestConcurrentSendsAndCalls(t *testing.T) {
	tn := newTestNode(t)
	counter := tn.deploy(initCode(counterCode))
	const perSender = 20
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for i := 0; i < 3; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			start := uint64(0)
			if i == 0 {
				start = 1 // the deployment
			}
			for k := uint64(0); k < perSender; k++ {
				if err := tn.sendRaw(tn.signed(i, start+k, &counter, nil, 100_000, nil)); err != nil {
					errs <- err
					return
				}
			}
		}(i)
	}
	for c := 0; c < 2; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for k := 0; k < 50; k++ {
				var out hexutil.Bytes
				if err := tn.rpc.Call(&out, "eth_call", map[string]any{"to": counter}, "latest"); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	var slot hexutil.Bytes
	tn.call(&slot, "eth_getStorageAt", counter, "0x0", "latest")
	if got := new(big.Int).SetBytes(slot).Uint64(); got != 3*perSender {
		t.Fatalf("counter %d, want %d", got, 3*perSender)
	}
	for i := 0; i < 3; i++ {
		want := uint64(perSender)
		if i == 0 {
			want++
		}
		var n hexutil.Uint64
		tn.call(&n, "eth_getTransactionCount", tn.addr(i), "latest")
		if uint64(n) != want {
			t.Fatalf("account %d nonce %d, want %d", i, n, want)
		}
	}
}
