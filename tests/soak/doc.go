// Package soak is the determinism soak: random valid models of op set v1
// (the op vectors' and composed models' structures with random constants,
// zero points and attributes, kept where validation accepts them) on
// random and adversarial inputs, through every backend and kernel path
// this machine has, at GOMAXPROCS 1 and N, compared byte for byte with
// the reference. `make soak DURATION=10m` runs it for a given time; `make
// test` runs it for a few seconds. Each run prints its seed first.
package soak
