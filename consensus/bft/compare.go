package bft

import (
	"math/big"

	"github.com/ethereum/go-ethereum/common"
)

func bigEqual(a, b *big.Int) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Cmp(b) == 0
}

func u64PtrEqual(a, b *uint64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}

func hashPtrEqual(a, b *common.Hash) bool {
	if a == nil || b == nil {
		return a == b
	}
	return *a == *b
}
