package devkeys

import (
	"crypto/ecdsa"
	"fmt"

	"github.com/ethereum/go-ethereum/common"
	"github.com/ethereum/go-ethereum/crypto"
)

// Account is one development account.
type Account struct {
	Address common.Address
	Key     *ecdsa.PrivateKey
}

// PrivateKeyHex is the key as wallets import it: 0x and 64 hex digits.
func (a Account) PrivateKeyHex() string {
	return fmt.Sprintf("%#x", crypto.FromECDSA(a.Key))
}

// MaxAccounts bounds how many accounts one call derives; each costs two
// scalar multiplications per path level, and a devnet needs a handful.
const MaxAccounts = 1000

// Derive returns the first n accounts of mnemonic on m/44'/60'/0'/0/i.
func Derive(mnemonic string, n int) ([]Account, error) {
	if n < 0 || n > MaxAccounts {
		return nil, fmt.Errorf("account count %d out of range [0, %d]", n, MaxAccounts)
	}
	seed, err := Seed(mnemonic, "")
	if err != nil {
		return nil, err
	}
	// m/44'/60'/0'/0 is shared; derive it once.
	base, err := masterKey(seed)
	if err != nil {
		return nil, err
	}
	for _, i := range []uint32{44 | hardened, 60 | hardened, 0 | hardened, 0} {
		if base, err = base.child(i); err != nil {
			return nil, err
		}
	}
	accounts := make([]Account, 0, n)
	for i := 0; i < n; i++ {
		leaf, err := base.child(uint32(i))
		if err != nil {
			return nil, fmt.Errorf("account %d: %w", i, err)
		}
		key, err := leaf.private()
		if err != nil {
			return nil, fmt.Errorf("account %d: %w", i, err)
		}
		accounts = append(accounts, Account{Address: crypto.PubkeyToAddress(key.PublicKey), Key: key})
	}
	return accounts, nil
}
