// Package submit sends L1 transactions for the batcher and the proposer:
// one key, one transaction in flight at a time, resubmitted with higher
// fees until it is mined (op-batcher's txmgr, reduced to what a sequential
// poster needs).
package submit

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"log/slog"
	"math/big"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum"
	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/l1"
)

// Config configures a Sender; zero values take the defaults.
type Config struct {
	Key *ecdsa.PrivateKey
	// ResubmitAfter is how long a transaction may wait unmined before it is
	// sent again with higher fees (default 5s).
	ResubmitAfter time.Duration
	// BumpPercent raises both fee caps on each resubmission (default 25;
	// geth and anvil require at least 10 to replace a transaction).
	BumpPercent int64
	// MaxAttempts bounds the sends of one transaction (default 10).
	MaxAttempts int
	// PollInterval is how often a receipt is looked for (default 100ms).
	PollInterval time.Duration
	Log          *slog.Logger
}

// Sender sends transactions from one key.
type Sender struct {
	client  l1.Client
	cfg     Config
	from    common.Address
	chainID *big.Int
	signer  types.Signer
}

// ErrReverted is returned with the receipt of a mined, failed transaction.
var ErrReverted = errors.New("l1 transaction reverted")

// New returns a sender for cfg.Key on client's chain.
func New(ctx context.Context, client l1.Client, cfg Config) (*Sender, error) {
	if cfg.Key == nil {
		return nil, errors.New("submit: no key")
	}
	if cfg.ResubmitAfter <= 0 {
		cfg.ResubmitAfter = 5 * time.Second
	}
	if cfg.BumpPercent < 10 {
		cfg.BumpPercent = 25
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 10
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	id, err := client.ChainID(ctx)
	if err != nil {
		return nil, fmt.Errorf("l1 chain id: %w", err)
	}
	return &Sender{client: client, cfg: cfg, from: crypto.PubkeyToAddress(cfg.Key.PublicKey), chainID: id, signer: types.LatestSignerForChainID(id)}, nil
}

// From is the sending account.
func (s *Sender) From() common.Address { return s.from }

// WaitIdle waits until none of the account's transactions is pending on
// the L1, so that what is mined is all there will be: a restarted poster
// reads the L1 only once nothing it sent before the restart can still land.
func (s *Sender) WaitIdle(ctx context.Context, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		pending, err := s.client.PendingNonceAt(ctx, s.from)
		if err != nil {
			return fmt.Errorf("pending nonce of %s: %w", s.from, err)
		}
		mined, err := s.client.NonceAt(ctx, s.from, nil)
		if err != nil {
			return fmt.Errorf("nonce of %s: %w", s.from, err)
		}
		if pending <= mined {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%d transactions of %s still pending on the L1 after %v", pending-mined, s.from, timeout)
		}
		if err := sleep(ctx, s.cfg.PollInterval); err != nil {
			return err
		}
	}
}

// Send sends a transaction to `to` (nil: a contract creation) with data and
// waits for it to be mined, resubmitting with bumped fees while it is not.
// A mined but reverted transaction returns its receipt and ErrReverted.
func (s *Sender) Send(ctx context.Context, to *common.Address, data []byte) (*types.Receipt, error) {
	nonce, err := s.client.PendingNonceAt(ctx, s.from)
	if err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	gas, err := s.client.EstimateGas(ctx, ethereum.CallMsg{From: s.from, To: to, Data: data})
	if err != nil {
		return nil, fmt.Errorf("estimate gas: %w", err)
	}
	gas += gas / 5 // headroom: state may move between estimate and inclusion
	tip, feeCap, err := s.fees(ctx)
	if err != nil {
		return nil, err
	}
	var sent []common.Hash
	for attempt := 1; attempt <= s.cfg.MaxAttempts; attempt++ {
		tx, err := types.SignNewTx(s.cfg.Key, s.signer, &types.DynamicFeeTx{
			ChainID: s.chainID, Nonce: nonce, GasTipCap: tip, GasFeeCap: feeCap, Gas: gas, To: to, Data: data,
		})
		if err != nil {
			return nil, err
		}
		switch err := s.client.SendTransaction(ctx, tx); {
		case err == nil, isAlready(err):
			sent = append(sent, tx.Hash())
		case isNonceTooLow(err) && len(sent) > 0:
			// An earlier attempt was mined meanwhile: wait for its receipt.
		case isUnderpriced(err):
			s.cfg.Log.Warn("l1 transaction underpriced, bumping", "nonce", nonce, "err", err)
		default:
			return nil, fmt.Errorf("send l1 transaction (nonce %d): %w", nonce, err)
		}
		if r, err := s.waitAny(ctx, sent); err != nil || r != nil {
			return r, err
		}
		tip, feeCap = bump(tip, s.cfg.BumpPercent), bump(feeCap, s.cfg.BumpPercent)
		if _, floor, err := s.fees(ctx); err == nil && feeCap.Cmp(floor) < 0 {
			feeCap = floor
		}
		s.cfg.Log.Info("l1 transaction not mined, resubmitting with higher fees", "nonce", nonce, "attempt", attempt+1, "tip", tip, "feeCap", feeCap)
	}
	if r, err := s.waitAny(ctx, sent); err != nil || r != nil {
		return r, err
	}
	return nil, fmt.Errorf("l1 transaction (nonce %d) not mined after %d attempts", nonce, s.cfg.MaxAttempts)
}

// waitAny polls the receipts of every attempt for ResubmitAfter; nil, nil
// when none was mined.
func (s *Sender) waitAny(ctx context.Context, hashes []common.Hash) (*types.Receipt, error) {
	deadline := time.Now().Add(s.cfg.ResubmitAfter)
	for {
		for _, h := range hashes {
			r, err := s.client.TransactionReceipt(ctx, h)
			if err == nil && r != nil {
				if r.Status != types.ReceiptStatusSuccessful {
					return r, fmt.Errorf("%w: %s", ErrReverted, h)
				}
				return r, nil
			}
			if err != nil && !errors.Is(err, ethereum.NotFound) && ctx.Err() == nil {
				s.cfg.Log.Debug("receipt lookup", "tx", h, "err", err)
			}
		}
		if time.Now().After(deadline) {
			return nil, nil
		}
		if err := sleep(ctx, s.cfg.PollInterval); err != nil {
			return nil, err
		}
	}
}

// fees are a tip and a fee cap that pays twice the current base fee.
func (s *Sender) fees(ctx context.Context) (tip, feeCap *big.Int, err error) {
	tip, err = s.client.SuggestGasTipCap(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("suggest tip: %w", err)
	}
	if tip.Sign() == 0 {
		tip = big.NewInt(1)
	}
	head, err := s.client.HeaderByNumber(ctx, nil)
	if err != nil {
		return nil, nil, fmt.Errorf("l1 head: %w", err)
	}
	feeCap = new(big.Int).Set(tip)
	if head.BaseFee != nil {
		feeCap.Add(feeCap, new(big.Int).Mul(head.BaseFee, big.NewInt(2)))
	}
	return tip, feeCap, nil
}

func bump(v *big.Int, percent int64) *big.Int {
	out := new(big.Int).Mul(v, big.NewInt(100+percent))
	out.Div(out, big.NewInt(100))
	if out.Cmp(v) <= 0 {
		out.Add(v, big.NewInt(1))
	}
	return out
}

func isAlready(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "already known")
}

func isNonceTooLow(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "nonce too low")
}

func isUnderpriced(err error) bool {
	return strings.Contains(strings.ToLower(err.Error()), "underpriced")
}

func sleep(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}
