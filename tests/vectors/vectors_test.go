package vectors_test

import (
	"bytes"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/cockroachdb/datadriven"

	"github.com/infergeth/infergeth/inference"
	"github.com/infergeth/infergeth/inference/modeltext"
	"github.com/infergeth/infergeth/inference/runtime"
	"github.com/infergeth/infergeth/tests/vectors/composed"
)

// TestOps runs the op-level vectors in ops/*.txt on every backend this
// machine has. Commands:
//
//	model           compile the text model below; prints its ID, sizes, cost and gas
//	run             run the last model; input lines NAME: values, in input order
//	mutate at=N value=V   set byte N of the last model's bytes and decode them
//	resize to=N     truncate or zero-extend the last model's bytes and decode them
func TestOps(t *testing.T) {
	backends := runtime.Backends()
	datadriven.Walk(t, "ops", func(t *testing.T, path string) {
		var cur *modeltext.Parsed
		datadriven.RunTest(t, path, func(t *testing.T, d *datadriven.TestData) string {
			switch d.Cmd {
			case "model":
				p, err := modeltext.Parse(d.Input)
				if err != nil {
					cur = nil
					return "error: " + err.Error() + "\n"
				}
				cur = p
				return describe(p)
			case "run":
				if cur == nil {
					d.Fatalf(t, "run without a valid model")
				}
				return runAll(t, d, cur, backends)
			case "mutate", "resize":
				if cur == nil {
					d.Fatalf(t, "%s without a valid model", d.Cmd)
				}
				b := append([]byte(nil), cur.Bytes...)
				if d.Cmd == "mutate" {
					var at, value int
					d.ScanArgs(t, "at", &at)
					d.ScanArgs(t, "value", &value)
					b[at] = byte(value)
				} else {
					var to int
					d.ScanArgs(t, "to", &to)
					if to <= len(b) {
						b = b[:to]
					} else {
						b = append(b, make([]byte, to-len(b))...)
					}
				}
				if _, err := inference.Decode(b); err != nil {
					return "error: " + err.Error() + "\n"
				}
				return "ok\n"
			}
			d.Fatalf(t, "unknown command %q", d.Cmd)
			return ""
		})
	})
}

func describe(p *modeltext.Parsed) string {
	m := p.Model
	c := m.Cost()
	id := inference.ID(p.Bytes)
	return fmt.Sprintf("id=0x%x\nbytes=%d inputBytes=%d outputBytes=%d\nmacs=%d elementOps=%d bytesTouched=%d gas=%d\n",
		id, len(p.Bytes), m.InputBytes(), m.OutputBytes(), c.MACs, c.ElementOps, c.BytesTouched, c.Gas())
}

// runAll runs the input on every backend; they must agree byte for byte.
func runAll(t *testing.T, d *datadriven.TestData, p *modeltext.Parsed, backends []inference.Backend) string {
	m := p.Model
	var input []byte
	lines := strings.Split(strings.TrimSpace(d.Input), "\n")
	if len(lines) != len(m.Inputs) {
		d.Fatalf(t, "%d input lines for %d inputs", len(lines), len(m.Inputs))
	}
	for i, line := range lines {
		name, vals, ok := strings.Cut(line, ":")
		tn := m.Inputs[i]
		if !ok || strings.TrimSpace(name) != p.Names[tn] {
			d.Fatalf(t, "input line %d: want %q: values", i, p.Names[tn])
		}
		input = append(input, encodeValues(t, d, &m.Tensors[tn], vals)...)
	}
	var want []byte
	var wantErr error
	for k, b := range backends {
		prog, err := b.Prepare(m)
		if err != nil {
			d.Fatalf(t, "%s: prepare: %v", b.Name(), err)
		}
		out, err := prog.Run(input)
		if k == 0 {
			want, wantErr = out, err
			continue
		}
		if !bytes.Equal(out, want) || fmt.Sprint(err) != fmt.Sprint(wantErr) {
			t.Errorf("%s: backend %s gives %x (%v), %s gives %x (%v)", d.Pos, b.Name(), out, err, backends[0].Name(), want, wantErr)
		}
	}
	if wantErr != nil {
		return "error: " + wantErr.Error() + "\n"
	}
	var sb strings.Builder
	off := 0
	for _, tn := range m.Outputs {
		o := &m.Tensors[tn]
		n := o.Elements()
		vals := make([]string, n)
		for i := 0; i < n; i++ {
			vals[i] = strconv.FormatInt(inference.Load(want[off:], o.DType, i), 10)
		}
		off += o.Bytes()
		fmt.Fprintf(&sb, "%s: %s\n", p.Names[tn], strings.Join(vals, " "))
	}
	return sb.String()
}

// encodeValues reads "v v ..." or "fill(v)" for tensor t.
func encodeValues(t *testing.T, d *datadriven.TestData, tn *inference.Tensor, s string) []byte {
	s = strings.TrimSpace(s)
	n := tn.Elements()
	var vals []int64
	if v, ok := strings.CutPrefix(s, "fill("); ok {
		x, err := strconv.ParseInt(strings.TrimSuffix(v, ")"), 10, 64)
		if err != nil {
			d.Fatalf(t, "%v", err)
		}
		for i := 0; i < n; i++ {
			vals = append(vals, x)
		}
	} else {
		var err error
		if vals, err = modeltext.ParseInts(s); err != nil {
			d.Fatalf(t, "%v", err)
		}
	}
	if len(vals) != n {
		d.Fatalf(t, "%d values for %d elements", len(vals), n)
	}
	b := make([]byte, tn.Bytes())
	for i, v := range vals {
		if v < tn.DType.Min() || v > tn.DType.Max() {
			d.Fatalf(t, "value %d outside %s", v, tn.DType)
		}
		inference.Store(b, tn.DType, i, v)
	}
	return b
}

// TestComposed runs every NAME/ folder (model.bin, input.hex, output.hex)
// on every backend.
func TestComposed(t *testing.T) {
	dirs, err := filepath.Glob("*/model.bin")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) == 0 {
		t.Fatal("no composed vectors found")
	}
	for _, path := range dirs {
		dir := filepath.Dir(path)
		t.Run(dir, func(t *testing.T) {
			raw, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			m, err := inference.Decode(raw)
			if err != nil {
				t.Fatal(err)
			}
			input := readHex(t, filepath.Join(dir, "input.hex"))
			want := readHex(t, filepath.Join(dir, "output.hex"))
			for _, b := range runtime.Backends() {
				prog, err := b.Prepare(m)
				if err != nil {
					t.Fatalf("%s: %v", b.Name(), err)
				}
				got, err := prog.Run(input)
				if err != nil {
					t.Fatalf("%s: %v", b.Name(), err)
				}
				if !bytes.Equal(got, want) {
					t.Errorf("%s: output differs from output.hex\n got %x\nwant %x", b.Name(), got, want)
				}
			}
		})
	}
}

func readHex(t *testing.T, path string) []byte {
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(raw)))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return b
}

// TestGeneratedVectorsAreCurrent rebuilds the composed vectors and compares
// them with the committed files: the generator reproduces them exactly.
func TestGeneratedVectorsAreCurrent(t *testing.T) {
	for _, v := range composed.All() {
		model, err := os.ReadFile(filepath.Join(v.Name, "model.bin"))
		if err != nil {
			t.Fatalf("%s: %v (run `make vectors`)", v.Name, err)
		}
		if !bytes.Equal(model, v.Model) {
			t.Errorf("%s/model.bin differs from what tests/vectors/gen builds (run `make vectors`)", v.Name)
		}
		if in := readHex(t, filepath.Join(v.Name, "input.hex")); !bytes.Equal(in, v.Input) {
			t.Errorf("%s/input.hex differs from what tests/vectors/gen builds", v.Name)
		}
		if out := readHex(t, filepath.Join(v.Name, "output.hex")); !bytes.Equal(out, v.Output) {
			t.Errorf("%s/output.hex differs from what tests/vectors/gen builds", v.Name)
		}
	}
}
