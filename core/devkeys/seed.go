package devkeys

import (
	"crypto/pbkdf2"
	"crypto/sha512"
	"fmt"
	"strings"

	"golang.org/x/text/unicode/norm"
)

// Seed is BIP-39's mnemonic-to-seed step: PBKDF2-HMAC-SHA512 over the
// NFKD-normalised sentence with salt "mnemonic"+passphrase, 2048 rounds,
// 64 bytes. BIP-39 does not require the words to pass the checksum for this
// step, and the devnet accepts any sentence a user chooses.
func Seed(mnemonic, passphrase string) ([]byte, error) {
	words := strings.Fields(mnemonic)
	if len(words) == 0 {
		return nil, fmt.Errorf("empty mnemonic")
	}
	sentence := norm.NFKD.String(strings.Join(words, " "))
	salt := norm.NFKD.String("mnemonic" + passphrase)
	seed, err := pbkdf2.Key(sha512.New, sentence, []byte(salt), 2048, 64)
	if err != nil {
		return nil, fmt.Errorf("bip39 seed: %w", err)
	}
	return seed, nil
}
