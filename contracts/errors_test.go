package contracts

import (
	"os"
	"regexp"
	"testing"
)

// TestErrorsABICoversSources: every custom error declared in the sources the
// artifact is built from is in it, so the node names each of them (a new
// error in the source without `make contracts` fails here and in
// `make contracts-check`).
func TestErrorsABICoversSources(t *testing.T) {
	errs, err := ErrorsABI()
	if err != nil {
		t.Fatal(err)
	}
	decl := regexp.MustCompile(`(?m)^\s*error\s+(\w+)\s*\(`)
	n := 0
	for _, file := range []string{"src/IInference.sol", "src/IModelRegistry.sol", "src/TensorCodec.sol"} {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range decl.FindAllStringSubmatch(string(src), -1) {
			n++
			if _, ok := errs.Errors[m[1]]; !ok {
				t.Errorf("%s declares error %s, which artifacts/InferenceErrors.json lacks (run make contracts)", file, m[1])
			}
		}
	}
	if n == 0 || len(errs.Errors) != n {
		t.Errorf("%d errors declared in the sources, %d in the artifact", n, len(errs.Errors))
	}
}
