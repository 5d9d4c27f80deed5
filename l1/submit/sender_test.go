package submit

import (
	"context"
	"math/big"
	"testing"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/ethclient/simulated"
)

// TestSendBumpsFeesUntilMined: the L1 mines nothing for a while; the
// sender resends the same nonce with higher fees each ResubmitAfter, and
// returns the receipt of the one that is mined.
func TestSendBumpsFeesUntilMined(t *testing.T) {
	key, _ := crypto.GenerateKey()
	from := crypto.PubkeyToAddress(key.PublicKey)
	backend := simulated.NewBackend(types.GenesisAlloc{from: {Balance: big.NewInt(1e18)}})
	defer backend.Close()
	client := backend.Client()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	s, err := New(ctx, client, Config{Key: key, ResubmitAfter: 50 * time.Millisecond, PollInterval: 5 * time.Millisecond, MaxAttempts: 50})
	if err != nil {
		t.Fatal(err)
	}
	first, _, err := s.fees(ctx)
	if err != nil {
		t.Fatal(err)
	}
	to := common.HexToAddress("0x1234")
	type result struct {
		r   *types.Receipt
		err error
	}
	done := make(chan result, 1)
	go func() {
		r, err := s.Send(ctx, &to, []byte{1, 2, 3})
		done <- result{r, err}
	}()
	time.Sleep(300 * time.Millisecond) // several resubmissions, nothing mined
	backend.Commit()
	res := <-done
	if res.err != nil {
		t.Fatal(res.err)
	}
	tx, _, err := client.TransactionByHash(ctx, res.r.TxHash)
	if err != nil {
		t.Fatal(err)
	}
	if tx.Nonce() != 0 || tx.GasTipCap().Cmp(first) <= 0 {
		t.Fatalf("mined nonce %d with tip %v; want nonce 0 and a tip above the first %v", tx.Nonce(), tx.GasTipCap(), first)
	}
	if n, _ := client.NonceAt(ctx, from, nil); n != 1 {
		t.Fatalf("account nonce %d after one send, want 1", n)
	}
}
