// Package reference is the reference backend: op set v1 in plain Go, the
// specification in code. Every other backend is tested against it bit for
// bit. It is written to be obviously correct, not fast: every value is
// widened to int64 and every formula is the one docs/spec.md states.
//
// Start at program.go (how a graph runs), then arith.go (the only rounding
// and requantization rules there are), then one file per family of ops.
package reference
