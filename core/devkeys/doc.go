// Package devkeys derives the devnet's development accounts from a BIP-39
// mnemonic along the BIP-32/BIP-44 path m/44'/60'/0'/0/i, the derivation that
// anvil, Hardhat and every wallet use, so the default mnemonic yields the
// accounts their users already know (account 0 is
// 0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266).
//
// Start with Derive. seed.go turns the mnemonic into a seed (BIP-39);
// hdkey.go walks the key tree (BIP-32).
package devkeys
