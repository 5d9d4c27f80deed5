package runtime

import (
	"errors"
	"strings"
	"testing"

	"github.com/infergeth/infergeth/inference/cpu"
)

// TestValidatorCPU: every kernel path qualifies a validator; the reference
// code (no AVX2) does not, with an error naming the minimum.
func TestValidatorCPU(t *testing.T) {
	for _, p := range []cpu.Path{cpu.PathVNNI, cpu.PathAVX2} {
		if err := checkValidatorPath(p); err != nil {
			t.Errorf("%s: %v", p, err)
		}
	}
	err := checkValidatorPath(cpu.PathGeneric)
	if !errors.Is(err, ErrBelowValidatorCPU) || !strings.Contains(err.Error(), "AVX2") {
		t.Errorf("generic: %v; want ErrBelowValidatorCPU naming AVX2", err)
	}
	// This machine: the check agrees with the path the backend chose.
	want := cpu.New().Path() != cpu.PathGeneric
	if got := CheckValidatorCPU() == nil; got != want {
		t.Errorf("CheckValidatorCPU() == nil is %v on path %s", got, cpu.New().Path())
	}
	if !strings.HasPrefix(CPUPath(), cpu.New().Path().String()) {
		t.Errorf("CPUPath() = %q", CPUPath())
	}
}
