// Package bft runs infergeth as a validator network on CometBFT v0.40.0,
// in-process, as a library (ARCHITECTURE.md decision 5, NETWORK.md).
//
// One CometBFT height is one EVM block. The ABCI++ application (app.go)
// drives the same builder and executor as the dev engine:
//
//   - PrepareProposal: the proposer builds on the committed head, from
//     infergeth's own pool, without committing, and proposes the whole EVM
//     block (header with its claimed state root, receipts root and gas used)
//     plus one digest per receipt, as the proposal's single CometBFT
//     transaction (proposal.go).
//   - ProcessProposal: every validator decodes and re-executes the block,
//     inference included (verify.go), and rejects it on any difference,
//     logging the block, the first differing transaction and which roots
//     differ. A local node fault (vm.ErrNodeFault) halts this validator:
//     it never votes on what its own broken hardware computed.
//   - FinalizeBlock/Commit commit the block already executed in
//     ProcessProposal or built in PrepareProposal: a block is executed once.
//     AppHash is the state root.
//
// Transactions: CometBFT's mempool is "app" (ABCI InsertTx/ReapTxs), so
// geth's legacypool stays the one mempool (nonce gaps, replacements) and
// CometBFT only carries transactions between nodes (gossip.go).
//
// Start with engine.go (how a node is assembled), then app.go.
package bft
