// Package params holds every constant that a node's output depends on:
// the chain configuration, the addresses of infergeth's system contracts
// and precompiles, the inference engine's hard limits and its gas schedule,
// and the devnet's defaults.
//
// A value here is consensus: changing one changes which models are valid,
// what a call costs, or which blocks a node accepts. Each is named, and each
// limit is tested at its edge by the package that enforces it.
package params
