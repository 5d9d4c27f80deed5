package devkeys

import (
	"crypto/ecdsa"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// hardened marks a BIP-32 child index as hardened (the ' in a path).
const hardened uint32 = 1 << 31

// errInvalidChild is BIP-32's "proceed with the next index" case, which has
// probability below 2^-127 and never occurs on the standard paths.
var errInvalidChild = errors.New("bip32: derived key out of range")

// extendedKey is a BIP-32 private node: a key and its chain code.
type extendedKey struct {
	key   *big.Int
	chain [32]byte
}

// masterKey is BIP-32's master node: HMAC-SHA512 keyed "Bitcoin seed".
func masterKey(seed []byte) (*extendedKey, error) {
	mac := hmac.New(sha512.New, []byte("Bitcoin seed"))
	mac.Write(seed)
	sum := mac.Sum(nil)
	k := new(big.Int).SetBytes(sum[:32])
	if k.Sign() == 0 || k.Cmp(crypto.S256().Params().N) >= 0 {
		return nil, errInvalidChild
	}
	ek := &extendedKey{key: k}
	copy(ek.chain[:], sum[32:])
	return ek, nil
}

// child is BIP-32's private parent to private child derivation (CKDpriv).
func (k *extendedKey) child(index uint32) (*extendedKey, error) {
	data := make([]byte, 0, 37)
	if index >= hardened {
		data = append(data, 0)
		data = append(data, common.LeftPadBytes(k.key.Bytes(), 32)...)
	} else {
		priv, err := k.private()
		if err != nil {
			return nil, err
		}
		data = append(data, crypto.CompressPubkey(&priv.PublicKey)...)
	}
	data = binary.BigEndian.AppendUint32(data, index)

	mac := hmac.New(sha512.New, k.chain[:])
	mac.Write(data)
	sum := mac.Sum(nil)

	n := crypto.S256().Params().N
	il := new(big.Int).SetBytes(sum[:32])
	if il.Cmp(n) >= 0 {
		return nil, errInvalidChild
	}
	ck := new(big.Int).Add(il, k.key)
	ck.Mod(ck, n)
	if ck.Sign() == 0 {
		return nil, errInvalidChild
	}
	c := &extendedKey{key: ck}
	copy(c.chain[:], sum[32:])
	return c, nil
}

func (k *extendedKey) private() (*ecdsa.PrivateKey, error) {
	priv, err := crypto.ToECDSA(common.LeftPadBytes(k.key.Bytes(), 32))
	if err != nil {
		return nil, fmt.Errorf("bip32: %w", err)
	}
	return priv, nil
}

// derivePath walks path (indices, hardened ones with the hardened bit set)
// from the master node of seed.
func derivePath(seed []byte, path []uint32) (*ecdsa.PrivateKey, error) {
	k, err := masterKey(seed)
	if err != nil {
		return nil, err
	}
	for _, i := range path {
		if k, err = k.child(i); err != nil {
			return nil, err
		}
	}
	return k.private()
}
