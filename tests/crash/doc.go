// Package crash kills `infergeth devnet --datadir` with SIGKILL while it is
// mining a stream of transactions, restarts it on the same directory, and
// checks that every receipt the node ever returned is still there, in the
// same block, and that the head's state agrees with the blocks.
//
// Run it with `go test ./tests/crash/`; it builds the binary itself.
package crash
