package core

import (
	"math/big"
	"sync"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/core/types"
)

// Senders is the chain's transaction signer. It recovers senders from
// signatures like geth's, except for transactions the devnet sent on behalf
// of an impersonated account (anvil_impersonateAccount): those carry a
// placeholder signature, and their sender is recorded here, and stored with
// the block that includes them, so that execution, receipts and RPC answers
// name the impersonated account.
type Senders struct {
	base types.Signer

	mu       sync.RWMutex
	recorded map[common.Hash]common.Address
}

// NewSenders wraps base.
func NewSenders(base types.Signer) *Senders {
	return &Senders{base: base, recorded: make(map[common.Hash]common.Address)}
}

// Record names the sender of a transaction with a placeholder signature.
func (s *Senders) Record(hash common.Hash, from common.Address) {
	s.mu.Lock()
	s.recorded[hash] = from
	s.mu.Unlock()
}

// Forget drops a record (the transaction was never included).
func (s *Senders) Forget(hash common.Hash) {
	s.mu.Lock()
	delete(s.recorded, hash)
	s.mu.Unlock()
}

// Recorded reports the recorded sender of hash, if any.
func (s *Senders) Recorded(hash common.Hash) (common.Address, bool) {
	s.mu.RLock()
	from, ok := s.recorded[hash]
	s.mu.RUnlock()
	return from, ok
}

// Sender implements types.Signer.
func (s *Senders) Sender(tx *types.Transaction) (common.Address, error) {
	if from, ok := s.Recorded(tx.Hash()); ok {
		return from, nil
	}
	// types.Sender caches the recovered address in the transaction.
	return types.Sender(s.base, tx)
}

// SignatureValues implements types.Signer.
func (s *Senders) SignatureValues(tx *types.Transaction, sig []byte) (r, sv, v *big.Int, err error) {
	return s.base.SignatureValues(tx, sig)
}

// ChainID implements types.Signer.
func (s *Senders) ChainID() *big.Int { return s.base.ChainID() }

// Hash implements types.Signer.
func (s *Senders) Hash(tx *types.Transaction) common.Hash { return s.base.Hash(tx) }

// Equal implements types.Signer.
func (s *Senders) Equal(other types.Signer) bool {
	o, ok := other.(*Senders)
	return ok && o == s
}

// Base is the plain signature-recovering signer.
func (s *Senders) Base() types.Signer { return s.base }
