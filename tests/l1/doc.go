// Package l1 holds the end-to-end tests of L1 settlement (build tag e2e,
// run by `make test-e2e`): the infergeth binary and a real L1 node (anvil
// from the pinned npm tools) on 127.0.0.1, with cast as the L2 client. A
// devnet posts batches and outputs and `infergeth verify` rebuilds them;
// the batcher is killed with -9 mid-channel and resumes; garbage from the
// batcher key is skipped alike by two verifiers and another key's data is
// ignored; a sequencer with wrong inference results is caught at its block.
package l1
