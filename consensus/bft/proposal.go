package bft

import (
	"errors"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/crypto"
	"github.com/ethereum/go-ethereum/rlp"
)

// proposalVersion is the first byte of an encoded proposal; a node refuses
// a version it does not know rather than guess.
const proposalVersion byte = 1

// MaxProposalBytes bounds an encoded proposal, checked before decoding. The
// genesis consensus parameters allow CometBFT blocks of this size and more.
const MaxProposalBytes = 16 << 20

// ErrBadProposal wraps every reason a proposal cannot be decoded.
var ErrBadProposal = errors.New("malformed proposal")

// proposal is what a proposer puts in a CometBFT block: the EVM block and a
// digest of each of its receipts, so that a validator whose execution
// differs can name the first transaction that differs, not only the root.
type proposal struct {
	Block    *types.Block
	Receipts []common.Hash
}

func encodeProposal(block *types.Block, receipts types.Receipts) ([]byte, error) {
	enc, err := rlp.EncodeToBytes(&proposal{Block: block, Receipts: receiptDigests(receipts)})
	if err != nil {
		return nil, fmt.Errorf("encode proposal of block %d: %w", block.NumberU64(), err)
	}
	return append([]byte{proposalVersion}, enc...), nil
}

func decodeProposal(b []byte) (*proposal, error) {
	switch {
	case len(b) == 0:
		return nil, fmt.Errorf("%w: empty", ErrBadProposal)
	case len(b) > MaxProposalBytes:
		return nil, fmt.Errorf("%w: %d bytes, limit %d", ErrBadProposal, len(b), MaxProposalBytes)
	case b[0] != proposalVersion:
		return nil, fmt.Errorf("%w: version %d, want %d", ErrBadProposal, b[0], proposalVersion)
	}
	var w proposal
	if err := rlp.DecodeBytes(b[1:], &w); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadProposal, err)
	}
	if w.Block == nil {
		return nil, fmt.Errorf("%w: no block", ErrBadProposal)
	}
	if n := len(w.Block.Transactions()); len(w.Receipts) != n {
		return nil, fmt.Errorf("%w: %d receipt digests for %d transactions", ErrBadProposal, len(w.Receipts), n)
	}
	if len(w.Block.Uncles()) != 0 {
		return nil, fmt.Errorf("%w: block has uncles", ErrBadProposal)
	}
	return &w, nil
}

// receiptDigests hashes each receipt's consensus encoding (status,
// cumulative gas, bloom, logs): what the receipts root commits to.
func receiptDigests(receipts types.Receipts) []common.Hash {
	out := make([]common.Hash, len(receipts))
	for i, r := range receipts {
		enc, err := r.MarshalBinary()
		if err != nil {
			// Only an unknown receipt type fails; it cannot come out of the
			// executor. A zero digest would simply differ from any peer's.
			continue
		}
		out[i] = crypto.Keccak256Hash(enc)
	}
	return out
}
