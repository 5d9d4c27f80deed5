// Package statetest runs Ethereum's GeneralStateTests (the JSON files of
// ethereum/tests) through infergeth's EVM factory.
//
// geth's tests package has the format and a runner, but its runner builds its
// EVM with geth's vm.NewEVM, which is exactly what infergeth never does
// (ARCHITECTURE.md, decision 1). So this package reads the same JSON
// (format.go), executes each subtest the way geth's StateTest.Run does, with
// the EVM coming from a vm.Factory (exec.go), and compares the post-state
// root and logs hash exactly as geth does. Files and tests that geth's own
// test suite skips are skipped here with geth's reasons (skips.go). suite.go
// walks paths, runs files in parallel and counts; `infergeth statetest` is
// its command line.
//
// Start with Suite.Run; a single subtest is Test.Run.
package statetest
