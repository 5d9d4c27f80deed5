//go:build !cuda

package runtime

import "github.com/infergeth/infergeth/inference"

// gpuBackends: the default build has no GPU support. It must never import
// gorgonia.org/cu, whose init exits the process on a machine without a GPU
// (ARCHITECTURE.md decision 7).
func gpuBackends() []inference.Backend { return nil }
