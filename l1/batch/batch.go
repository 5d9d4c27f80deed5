package batch

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
	"github.com/ethereum/go-ethereum/rlp"
)

// Limits of a batch. They bound what a verifier allocates for data from the
// L1 and are part of the format: a batch over them is refused everywhere.
const (
	// MaxBatchBytes bounds a batch's RLP, i.e. a channel decompressed.
	MaxBatchBytes = 16 << 20
	// MaxBlocks bounds the blocks of one batch.
	MaxBlocks = 4096
	// MaxExtra is the longest header extra data (geth's 32 bytes).
	MaxExtra = 32
)

// ErrInvalidBatch wraps every reason a batch is refused.
var ErrInvalidBatch = errors.New("invalid batch")

// Batch is a run of consecutive L2 blocks.
type Batch struct {
	// ParentHash is the hash of the L2 block before the first: a verifier
	// that rebuilt a different block there has diverged.
	ParentHash common.Hash
	// First is the number of the first block (at least 1).
	First  uint64
	Blocks []Block
}

// Block is one L2 block as posted. The header is rebuilt from the parent
// by the builder's rules (core.Builder.NextHeader) with these fields; an
// empty field means "what the rule gives" (see Header).
type Block struct {
	Time uint64
	// StateRoot is the sequencer's post-state root: where a verifier
	// finds the first block it disagrees with.
	StateRoot common.Hash
	// Coinbase is empty (the parent's) or 20 bytes.
	Coinbase []byte
	// GasLimit is 0 (the parent's) or the block's.
	GasLimit uint64
	// BaseFee is empty (EIP-1559's from the parent) or big-endian.
	BaseFee []byte
	// Random is empty (keccak256(parent mix digest ++ parent hash), the dev
	// engine's rule) or the 32-byte PREVRANDAO.
	Random []byte
	// Extra is the header's extra data.
	Extra []byte
	// Txs are the transactions in their canonical (EIP-2718) encoding.
	Txs [][]byte
}

// Last is the number of the last block.
func (b *Batch) Last() uint64 { return b.First + uint64(len(b.Blocks)) - 1 }

// Encode is the batch's RLP.
func (b *Batch) Encode() ([]byte, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	enc, err := rlp.EncodeToBytes(b)
	if err != nil {
		return nil, fmt.Errorf("encode batch: %w", err)
	}
	if len(enc) > MaxBatchBytes {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrInvalidBatch, len(enc), MaxBatchBytes)
	}
	return enc, nil
}

// DecodeBatch parses a batch's RLP strictly: no trailing bytes, every field
// in range, every transaction decodable.
func DecodeBatch(enc []byte) (*Batch, error) {
	if len(enc) > MaxBatchBytes {
		return nil, fmt.Errorf("%w: %d bytes, over %d", ErrInvalidBatch, len(enc), MaxBatchBytes)
	}
	var b Batch
	if err := rlp.DecodeBytes(enc, &b); err != nil {
		return nil, fmt.Errorf("%w: rlp: %w", ErrInvalidBatch, err)
	}
	if err := b.check(); err != nil {
		return nil, err
	}
	return &b, nil
}

// Transactions decodes the block's transactions (check has already proven
// they decode).
func (b *Block) Transactions() (types.Transactions, error) {
	txs := make(types.Transactions, len(b.Txs))
	for i, raw := range b.Txs {
		tx := new(types.Transaction)
		if err := tx.UnmarshalBinary(raw); err != nil {
			return nil, fmt.Errorf("%w: tx %d: %w", ErrInvalidBatch, i, err)
		}
		txs[i] = tx
	}
	return txs, nil
}

func (b *Batch) check() error {
	switch {
	case b.First == 0:
		return fmt.Errorf("%w: first block 0 (genesis is never posted)", ErrInvalidBatch)
	case len(b.Blocks) == 0:
		return fmt.Errorf("%w: no blocks", ErrInvalidBatch)
	case len(b.Blocks) > MaxBlocks:
		return fmt.Errorf("%w: %d blocks, over %d", ErrInvalidBatch, len(b.Blocks), MaxBlocks)
	case b.First > 1<<62:
		return fmt.Errorf("%w: first block %d out of range", ErrInvalidBatch, b.First)
	}
	for i := range b.Blocks {
		blk := &b.Blocks[i]
		n := b.First + uint64(i)
		switch {
		case len(blk.Coinbase) != 0 && len(blk.Coinbase) != common.AddressLength:
			return fmt.Errorf("%w: block %d: coinbase of %d bytes", ErrInvalidBatch, n, len(blk.Coinbase))
		case len(blk.Random) != 0 && len(blk.Random) != common.HashLength:
			return fmt.Errorf("%w: block %d: random of %d bytes", ErrInvalidBatch, n, len(blk.Random))
		case len(blk.BaseFee) > 32 || len(blk.BaseFee) > 0 && blk.BaseFee[0] == 0:
			return fmt.Errorf("%w: block %d: base fee not a canonical 256-bit integer", ErrInvalidBatch, n)
		case len(blk.Extra) > MaxExtra:
			return fmt.Errorf("%w: block %d: extra data of %d bytes", ErrInvalidBatch, n, len(blk.Extra))
		}
		if _, err := blk.Transactions(); err != nil {
			return fmt.Errorf("block %d: %w", n, err)
		}
	}
	return nil
}

// baseFee is the override, or nil.
func (b *Block) baseFee() *big.Int {
	if len(b.BaseFee) == 0 {
		return nil
	}
	return new(big.Int).SetBytes(b.BaseFee)
}
