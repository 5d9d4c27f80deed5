// Package e2e holds the end-to-end tests: real clients (foundry's cast and
// forge, ethers v6 and viem from npm, all pinned in tests/tools) against a
// devnet each test starts on 127.0.0.1 and kills at the end. The Go files are
// the driver (build tag e2e, run by `make test-e2e`); the Solidity sources
// the tests deploy are in contracts/ and script/, and the JavaScript tests in
// js/. README.md says how to run them and what a dApp developer should know
// (ethers' cacheTimeout, forge script's --skip-simulation).
package e2e
