package cuda

import (
	"crypto/sha256"
	"encoding/hex"
	"go/build/constraint"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

const cuImport = "gorgonia.org/cu"

// TestDefaultBuildDoesNotImportCU: gorgonia.org/cu's init exits the process
// on a machine without a GPU, so every file in the module that imports it
// must be excluded from any build without the cuda tag (ARCHITECTURE.md
// decision 7), and the default infergeth binary must not depend on it.
func TestDefaultBuildDoesNotImportCU(t *testing.T) {
	root := filepath.Join("..", "..")
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not at %s: %v", root, err)
	}
	fset := token.NewFileSet()
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "node_modules" || name == "testdata") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") {
			return nil
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly|parser.ParseComments)
		if err != nil {
			return nil // someone's file in progress; the compiler will say
		}
		imports := false
		for _, imp := range f.Imports {
			p, _ := strconv.Unquote(imp.Path.Value)
			if p == cuImport || strings.HasPrefix(p, cuImport+"/") {
				imports = true
			}
		}
		if !imports {
			return nil
		}
		checked++
		var expr constraint.Expr
		for _, cg := range f.Comments {
			if cg.Pos() > f.Package {
				break
			}
			for _, c := range cg.List {
				if constraint.IsGoBuild(c.Text) {
					if expr, err = constraint.Parse(c.Text); err != nil {
						t.Errorf("%s: %v", path, err)
					}
				}
			}
		}
		// Every other tag true, cuda false: the file must drop out.
		if expr == nil || expr.Eval(func(tag string) bool { return tag != "cuda" }) {
			t.Errorf("%s imports %s but builds without the cuda tag: start it with //go:build cuda", path, cuImport)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked == 0 {
		t.Errorf("no file imports %s: the check checks nothing (was the cuda backend moved?)", cuImport)
	}

	goTool, err := exec.LookPath(filepath.Join(runtime.GOROOT(), "bin", "go"))
	if err != nil {
		t.Logf("no go tool (%v): skipping go list", err)
		return
	}
	cmd := exec.Command(goTool, "list", "-e", "-deps", "./cmd/infergeth")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOFLAGS=")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	for _, line := range strings.Fields(string(out)) {
		if line == cuImport || strings.HasPrefix(line, cuImport+"/") {
			t.Errorf("the default build of cmd/infergeth depends on %s", line)
		}
	}
}

// TestKernelConstants compares kernels.go with kernels/infergeth.cu: tile
// #defines, and each kernel's parameter count, all 8 bytes wide.
func TestKernelConstants(t *testing.T) {
	src, err := os.ReadFile(filepath.Join("kernels", "infergeth.cu"))
	if err != nil {
		t.Fatal(err)
	}
	defines := map[string]int{}
	for _, m := range regexp.MustCompile(`(?m)^#define (\w+) (\d+)`).FindAllStringSubmatch(string(src), -1) {
		defines[m[1]], _ = strconv.Atoi(m[2])
	}
	for name, want := range map[string]int{
		"IMMA_BM": immaBM, "IMMA_BN": immaBN, "IMMA_BK": immaBK, "IMMA_THREADS": immaThreads,
		"DP4A_ROWS": dp4aRows, "DP4A_COLS": dp4aCols, "DP4A_THREADS": dp4aThreads, "ELEM_THREADS": elemThreads,
	} {
		if got, ok := defines[name]; !ok || got != want {
			t.Errorf("%s: infergeth.cu has %d (found %v), kernels.go %d", name, got, ok, want)
		}
	}
	sigs := regexp.MustCompile(`(?s)IG_GLOBAL.*?\b(ig_\w+)\(([^)]*)\)\s*\{`).FindAllStringSubmatch(string(src), -1)
	found := map[string]bool{}
	for _, m := range sigs {
		name, params := m[1], strings.Split(m[2], ",")
		found[name] = true
		var id kernelID
		for k := kernelIMMA; k < numKernels; k++ {
			if kernelNames[k] == name {
				id = k
			}
		}
		if id == kernelAuto {
			t.Errorf("kernel %s is not in kernels.go", name)
			continue
		}
		if len(params) != kernelArgs[id] {
			t.Errorf("%s takes %d parameters; kernels.go says %d", name, len(params), kernelArgs[id])
		}
		for _, p := range params {
			if !strings.Contains(p, "*") && !strings.Contains(p, "long long") {
				t.Errorf("%s: parameter %q is not 8 bytes wide (cu's Launch copies 8 bytes each)", name, strings.TrimSpace(p))
			}
		}
	}
	for k := kernelIMMA; k < numKernels; k++ {
		if !found[kernelNames[k]] {
			t.Errorf("kernel %s not found in infergeth.cu", kernelNames[k])
		}
	}
}

// kernelSourceHash is what mkptx.sh writes into each PTX header: the
// SHA-256 of the sources the PTX is made of.
func kernelSourceHash(t *testing.T) string {
	h := sha256.New()
	for _, f := range ptxSources {
		b, err := os.ReadFile(filepath.Join("kernels", f))
		if err != nil {
			t.Fatal(err)
		}
		h.Write(b)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// TestPTXIsCurrent: the committed PTX was made from the kernel source as it
// is now (run `make cuda-ptx` after editing kernels/*.cu or prims.cuh).
func TestPTXIsCurrent(t *testing.T) {
	want := kernelSourceHash(t)
	for _, f := range ptxFiles {
		b, err := os.ReadFile(filepath.Join("kernels", f))
		if err != nil {
			t.Fatalf("%v (run `make cuda-ptx`)", err)
		}
		got := ptxHeader(string(b), "sources-sha256")
		if got != want {
			t.Errorf("kernels/%s was made from sources with hash %q; they now hash to %q: run `make cuda-ptx`", f, got, want)
		}
		if ptxHeader(string(b), "nvcc") == "" {
			t.Errorf("kernels/%s does not say which nvcc made it", f)
		}
		for k := kernelIMMA; k < numKernels; k++ {
			if !strings.Contains(string(b), ".entry "+kernelNames[k]) {
				t.Errorf("kernels/%s has no entry %s", f, kernelNames[k])
			}
		}
	}
}
