package vm

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// gethVMPath is the package whose NewEVM only this package may call.
const gethVMPath = "github.com/ethereum/go-ethereum/core/vm"

// TestOnlyFactoryCallsNewEVM enforces ARCHITECTURE.md decision 1: every EVM
// comes from Factory.NewEVM, so infergeth's precompiles are installed in
// block execution, eth_call, gas estimation and tracing alike. It parses
// every .go file of the module and fails on any call of geth's vm.NewEVM
// outside vm/factory.go.
func TestOnlyFactoryCallsNewEVM(t *testing.T) {
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found above vm/: %v", err)
	}
	allowed := filepath.Join(root, "vm", "factory.go")
	fset := token.NewFileSet()
	scanned := 0
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			switch d.Name() {
			case ".git", "node_modules", "build", "testdata":
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || path == allowed {
			return nil
		}
		file, err := parser.ParseFile(fset, path, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		scanned++
		for _, name := range gethVMNames(file) {
			if name == "." {
				rel, _ := filepath.Rel(root, path)
				t.Errorf("%s: dot-imports geth's core/vm, hiding NewEVM calls from this check", rel)
				continue
			}
			ast.Inspect(file, func(n ast.Node) bool {
				sel, ok := n.(*ast.SelectorExpr)
				if !ok || sel.Sel.Name != "NewEVM" {
					return true
				}
				if x, ok := sel.X.(*ast.Ident); ok && x.Name == name {
					rel, _ := filepath.Rel(root, path)
					t.Errorf("%s:%d: calls geth's vm.NewEVM; make EVMs with vm.Factory.NewEVM", rel, fset.Position(sel.Pos()).Line)
				}
				return true
			})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if scanned < 10 {
		t.Fatalf("scanned only %d files: is the walk rooted at the module?", scanned)
	}
}

// gethVMNames returns the names under which file imports geth's core/vm
// (a dot import counts as a violation on its own).
func gethVMNames(file *ast.File) []string {
	var names []string
	for _, imp := range file.Imports {
		path, err := strconv.Unquote(imp.Path.Value)
		if err != nil || path != gethVMPath {
			continue
		}
		switch {
		case imp.Name == nil:
			names = append(names, "vm")
		case imp.Name.Name == "_":
		case imp.Name.Name == ".":
			names = append(names, ".")
		default:
			names = append(names, imp.Name.Name)
		}
	}
	return names
}

// TestNewEVMScanFindsCalls makes sure the scan would see a violation.
func TestNewEVMScanFindsCalls(t *testing.T) {
	src := `package p
import gvm "github.com/ethereum/go-ethereum/core/vm"
func f() { _ = gvm.NewEVM }`
	file, err := parser.ParseFile(token.NewFileSet(), "p.go", src, 0)
	if err != nil {
		t.Fatal(err)
	}
	names := gethVMNames(file)
	if len(names) != 1 || names[0] != "gvm" {
		t.Fatalf("import names %v, want [gvm]", names)
	}
}
