//go:build !faultinject

package node

import (
	"log/slog"

	"github.com/infergeth/infergeth/inference"
)

// injectFault is the identity in every normal build: a wrong inference
// result can be injected only in a binary built with -tags faultinject,
// for the cluster tests (faultinject.go).
func injectFault(b inference.Backend, _ *slog.Logger) inference.Backend { return b }
