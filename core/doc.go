// Package core is the chain a node keeps and extends: genesis, the chain
// store on pebble, the block executor and builder, and the transaction pool.
// Every consensus engine (package consensus) drives these same pieces.
//
// Where to start:
//   - genesis.go, predeploys.go: what block 0 holds (funded accounts, the
//     fork system contracts, the CREATE2 deployer, Multicall3) and the
//     Predeploy hook later parts use to add contracts.
//   - chain.go: Chain, the store. Commit writes state, block, receipts and
//     head in that order and syncs before returning, which is what makes a
//     returned receipt survive kill -9. State uses geth's hash scheme with
//     each block's trie committed, so no state lives only in memory.
//   - executor.go: Executor and BlockRun, which execute a block through
//     EVMs from the vm.Factory (ARCHITECTURE.md decision 1), with Prague's
//     system calls; Process re-executes a foreign block and checks its roots.
//   - builder.go: Builder, which fills a block from forced transactions and
//     the pool, as geth's miner does.
//   - txpool.go: Pool, geth's legacypool kept in step with the chain
//     synchronously.
//   - senders.go: Senders, the signer that also knows the senders of
//     transactions sent for impersonated accounts.
package core
