// Package runtime chooses a backend and caches decoded, prepared models:
// what a node and the CLI use to run a model by its bytes. guard.go is where
// failures are classified: a model runs on a chain of backends, fastest
// first, each one's panics and errors sending the call to the next; only the
// last, the reference, may call an input bad, and a failure of all of them
// is a node fault (ErrNodeFault), never a result.
package runtime

import (
	"fmt"
	"strings"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/reference"
)

// Backends lists the backends this binary can run on this machine, the
// preferred first. reference is always present.
func Backends() []inference.Backend {
	return append(accelerated(), reference.Backend{})
}

// Select returns the backend named name; "auto" is the first of Backends.
func Select(name string) (inference.Backend, error) {
	all := Backends()
	if name == "" || name == "auto" {
		return all[0], nil
	}
	names := make([]string, 0, len(all))
	for _, b := range all {
		if b.Name() == name {
			return b, nil
		}
		names = append(names, b.Name())
	}
	return nil, fmt.Errorf("backend %q is not available here (available: auto, %s)", name, strings.Join(names, ", "))
}
