package bft

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	gethvm "github.com/ethereum/go-ethereum/core/vm"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/core"
	"github.com/infergeth/infergeth/vm"
)

// ErrMismatch is a proposal whose re-execution differs from what its
// header claims, or whose consensus fields are not the agreed ones.
var ErrMismatch = errors.New("proposal differs from this node's execution")

// MismatchError says how a proposal differs: the block, the first
// transaction whose receipt differs (if any) and which roots differ.
type MismatchError struct {
	Number uint64
	Hash   common.Hash
	// FirstTx is the index of the first transaction whose receipt differs,
	// -1 when every receipt agrees (the difference is in state only, or in
	// the header's consensus fields).
	FirstTx     int
	FirstTxHash common.Hash
	// Differs names each header field or root that differs, with both values.
	Differs []string
}

func (e *MismatchError) Error() string {
	tx := "no receipt differs"
	if e.FirstTx >= 0 {
		tx = fmt.Sprintf("first differing tx %d (%x)", e.FirstTx, e.FirstTxHash)
	}
	return fmt.Sprintf("block %d (%x): %s; %s", e.Number, e.Hash, tx, strings.Join(e.Differs, "; "))
}

func (e *MismatchError) Unwrap() error { return ErrMismatch }

// consensusData is what CometBFT agreed on for a height, from which the
// EVM block's consensus fields follow.
type consensusData struct {
	height   int64
	time     time.Time
	proposer []byte
}

// attrs are the consensus fields of the block on parent: the timestamp is
// CometBFT's agreed block time in whole seconds (never before the
// parent's), the coinbase is the proposer's validator address (the first
// 20 bytes of the SHA-256 of its consensus key) and PREVRANDAO is
// keccak256(parent's PREVRANDAO, parent hash, proposer address): each is
// known to every validator before the block is executed.
func attrsFor(parent *types.Header, cd consensusData) core.BuildAttrs {
	ts := uint64(max(cd.time.Unix(), 0))
	if ts < parent.Time {
		ts = parent.Time
	}
	return core.BuildAttrs{
		Timestamp: ts,
		Coinbase:  common.BytesToAddress(cd.proposer),
		Random:    crypto.Keccak256Hash(parent.MixDigest[:], parent.Hash().Bytes(), cd.proposer),
	}
}

// reexecute checks a proposed block against the agreed consensus data and
// executes it on parent's state root. It returns the executed block, ready
// to commit, or a *MismatchError, or an error wrapping vm.ErrNodeFault when
// this node could not compute a result at all.
func reexecute(ctx context.Context, builder *core.Builder, exec *core.Executor, chain *core.Chain, parent *types.Header, root common.Hash, cd consensusData, p *proposal) (*core.Built, error) {
	block := p.Block
	header := block.Header()
	mismatch := &MismatchError{Number: block.NumberU64(), Hash: block.Hash(), FirstTx: -1}
	if header.ParentHash != parent.Hash() {
		mismatch.Differs = append(mismatch.Differs, fmt.Sprintf("unknown parent %x (head is %d %x)", header.ParentHash, parent.Number, parent.Hash()))
		return nil, mismatch
	}
	want := builder.NextHeader(parent, attrsFor(parent, cd))
	mismatch.Differs = diffConsensusFields(want, header)
	if len(mismatch.Differs) > 0 {
		return nil, mismatch
	}
	statedb, err := chain.StateAt(root)
	if err != nil {
		return nil, fmt.Errorf("state of parent %d: %w", parent.Number, err)
	}
	run := exec.Begin(ctx, types.CopyHeader(want), statedb, gethvm.Config{})
	for i, tx := range block.Transactions() {
		if _, err := run.Apply(tx); err != nil {
			if errors.Is(err, vm.ErrNodeFault) {
				return nil, fmt.Errorf("block %d tx %d (%x): %w", block.NumberU64(), i, tx.Hash(), err)
			}
			mismatch.FirstTx, mismatch.FirstTxHash = i, tx.Hash()
			mismatch.Differs = append(mismatch.Differs, fmt.Sprintf("tx %d cannot be included: %v", i, err))
			return nil, mismatch
		}
	}
	got, receipts, err := run.Finish()
	if err != nil {
		if errors.Is(err, vm.ErrNodeFault) {
			return nil, err
		}
		mismatch.Differs = append(mismatch.Differs, fmt.Sprintf("finish: %v", err))
		return nil, mismatch
	}
	for i, d := range receiptDigests(receipts) {
		if d != p.Receipts[i] {
			mismatch.FirstTx, mismatch.FirstTxHash = i, block.Transactions()[i].Hash()
			break
		}
	}
	mismatch.Differs = diffExecutedFields(got.Header(), header)
	if len(mismatch.Differs) > 0 || mismatch.FirstTx >= 0 {
		if len(mismatch.Differs) == 0 {
			mismatch.Differs = []string{"receipt digest"}
		}
		return nil, mismatch
	}
	if got.Hash() != block.Hash() {
		mismatch.Differs = []string{fmt.Sprintf("block hash: executed %x, proposed %x", got.Hash(), block.Hash())}
		return nil, mismatch
	}
	return &core.Built{Block: got, Receipts: receipts, State: run.State()}, nil
}

// diffConsensusFields lists the header fields fixed before execution that
// differ from what the agreed consensus data gives.
func diffConsensusFields(want, got *types.Header) []string {
	var out []string
	add := func(name string, a, b any) { out = append(out, fmt.Sprintf("%s: agreed %v, proposed %v", name, a, b)) }
	if want.Number.Cmp(got.Number) != 0 {
		add("number", want.Number, got.Number)
	}
	if want.Time != got.Time {
		add("timestamp", want.Time, got.Time)
	}
	if want.Coinbase != got.Coinbase {
		add("coinbase", want.Coinbase, got.Coinbase)
	}
	if want.MixDigest != got.MixDigest {
		add("prevrandao", want.MixDigest, got.MixDigest)
	}
	if want.GasLimit != got.GasLimit {
		add("gas limit", want.GasLimit, got.GasLimit)
	}
	if !bigEqual(want.BaseFee, got.BaseFee) {
		add("base fee", want.BaseFee, got.BaseFee)
	}
	if got.Difficulty == nil || got.Difficulty.Sign() != 0 {
		add("difficulty", 0, got.Difficulty)
	}
	if len(got.Extra) != 0 {
		add("extra data", "empty", fmt.Sprintf("%d bytes", len(got.Extra)))
	}
	if !u64PtrEqual(want.ExcessBlobGas, got.ExcessBlobGas) {
		add("excess blob gas", want.ExcessBlobGas, got.ExcessBlobGas)
	}
	if !hashPtrEqual(want.ParentBeaconRoot, got.ParentBeaconRoot) {
		add("parent beacon root", want.ParentBeaconRoot, got.ParentBeaconRoot)
	}
	return out
}

// diffExecutedFields lists the roots and totals that execution produced
// differently from the proposal's header.
func diffExecutedFields(executed, proposed *types.Header) []string {
	var out []string
	add := func(name string, a, b any) {
		out = append(out, fmt.Sprintf("%s: executed %v, proposed %v", name, a, b))
	}
	if executed.Root != proposed.Root {
		add("state root", executed.Root, proposed.Root)
	}
	if executed.ReceiptHash != proposed.ReceiptHash {
		add("receipts root", executed.ReceiptHash, proposed.ReceiptHash)
	}
	if executed.GasUsed != proposed.GasUsed {
		add("gas used", executed.GasUsed, proposed.GasUsed)
	}
	if executed.TxHash != proposed.TxHash {
		add("transactions root", executed.TxHash, proposed.TxHash)
	}
	if executed.Bloom != proposed.Bloom {
		add("logs bloom", "(differs)", "(differs)")
	}
	if !hashPtrEqual(executed.RequestsHash, proposed.RequestsHash) {
		add("requests hash", executed.RequestsHash, proposed.RequestsHash)
	}
	if !u64PtrEqual(executed.BlobGasUsed, proposed.BlobGasUsed) {
		add("blob gas used", executed.BlobGasUsed, proposed.BlobGasUsed)
	}
	if !hashPtrEqual(executed.WithdrawalsHash, proposed.WithdrawalsHash) {
		add("withdrawals hash", executed.WithdrawalsHash, proposed.WithdrawalsHash)
	}
	return out
}
