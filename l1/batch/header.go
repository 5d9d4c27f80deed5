package batch

import (
	"bytes"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"

	"github.com/infergeth/infergeth/core"
)

// HeaderRule makes the header of the next block from its parent and the
// consensus engine's choices: core.Builder.NextHeader. The batcher and
// the verifier use the same rule, so a block's header is posted as the few
// fields the rule cannot work out.
type HeaderRule interface {
	NextHeader(parent *types.Header, attrs core.BuildAttrs) *types.Header
}

// DevRandom is the dev engine's PREVRANDAO for a child of parent: the
// default when a posted block carries no Random.
func DevRandom(parent *types.Header) common.Hash {
	return crypto.Keccak256Hash(parent.MixDigest[:], parent.Hash().Bytes())
}

// Header is the header of blk on parent before execution: what the
// executor starts from (its roots, gas used and bloom are the execution's).
func (blk *Block) Header(rule HeaderRule, parent *types.Header) *types.Header {
	attrs := core.BuildAttrs{
		Timestamp: blk.Time,
		Coinbase:  parent.Coinbase,
		Random:    DevRandom(parent),
		GasLimit:  blk.GasLimit,
		BaseFee:   blk.baseFee(),
	}
	if len(blk.Coinbase) != 0 {
		attrs.Coinbase = common.BytesToAddress(blk.Coinbase)
	}
	if len(blk.Random) != 0 {
		attrs.Random = common.BytesToHash(blk.Random)
	}
	h := rule.NextHeader(parent, attrs)
	h.Extra = common.CopyBytes(blk.Extra)
	if h.Extra == nil {
		h.Extra = []byte{}
	}
	return h
}

// FromBlock is how block, a child of parent, is posted. It checks that the
// header rebuilt from what is posted equals block's in every field the
// execution does not produce: a block some engine made with a field this
// format cannot carry is an error here, at the batcher, and never a
// divergence at the verifiers.
func FromBlock(rule HeaderRule, parent *types.Header, block *types.Block) (Block, error) {
	h := block.Header()
	blk := Block{Time: h.Time, StateRoot: h.Root, Extra: common.CopyBytes(h.Extra)}
	if h.Coinbase != parent.Coinbase {
		blk.Coinbase = h.Coinbase.Bytes()
	}
	if h.GasLimit != parent.GasLimit {
		blk.GasLimit = h.GasLimit
	}
	if h.MixDigest != DevRandom(parent) {
		blk.Random = h.MixDigest.Bytes()
	}
	if h.BaseFee != nil {
		if want := blk.Header(rule, parent).BaseFee; want == nil || want.Cmp(h.BaseFee) != 0 {
			blk.BaseFee = h.BaseFee.Bytes()
			if h.BaseFee.Sign() == 0 {
				return Block{}, fmt.Errorf("block %d: a zero base fee override cannot be posted", h.Number)
			}
		}
	}
	for i, tx := range block.Transactions() {
		raw, err := tx.MarshalBinary()
		if err != nil {
			return Block{}, fmt.Errorf("block %d: tx %d: %w", h.Number, i, err)
		}
		blk.Txs = append(blk.Txs, raw)
	}
	if err := sameHeaderInputs(blk.Header(rule, parent), h); err != nil {
		return Block{}, fmt.Errorf("block %d is not derivable from what a batch carries: %w", h.Number, err)
	}
	return blk, nil
}

// sameHeaderInputs compares the header fields execution does not fill.
func sameHeaderInputs(got, want *types.Header) error {
	switch {
	case got.ParentHash != want.ParentHash:
		return fmt.Errorf("parent hash %x, block has %x", got.ParentHash, want.ParentHash)
	case got.Number.Cmp(want.Number) != 0:
		return fmt.Errorf("number %v, block has %v", got.Number, want.Number)
	case got.Time != want.Time, got.GasLimit != want.GasLimit, got.Coinbase != want.Coinbase, got.MixDigest != want.MixDigest:
		return fmt.Errorf("time, gas limit, coinbase or random differ")
	case !bytes.Equal(got.Extra, want.Extra):
		return fmt.Errorf("extra data differs")
	case !equalBig(got.BaseFee, want.BaseFee), !equalBig(got.Difficulty, want.Difficulty):
		return fmt.Errorf("base fee %v or difficulty %v differ from %v, %v", got.BaseFee, got.Difficulty, want.BaseFee, want.Difficulty)
	case !equalU64(got.ExcessBlobGas, want.ExcessBlobGas), !equalU64(got.BlobGasUsed, want.BlobGasUsed):
		return fmt.Errorf("blob gas fields differ")
	case !equalHash(got.ParentBeaconRoot, want.ParentBeaconRoot):
		return fmt.Errorf("parent beacon root differs")
	case want.WithdrawalsHash != nil && *want.WithdrawalsHash != types.EmptyWithdrawalsHash:
		return fmt.Errorf("the block has withdrawals")
	}
	return nil
}

func equalBig(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return a.Cmp(b) == 0
}

func equalU64(a, b *uint64) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}

func equalHash(a, b *common.Hash) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
