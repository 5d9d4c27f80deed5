// Package modeltext reads a small text form of models, so that conformance
// vectors and tests can show a whole model in a few readable lines:
//
//	# one fully connected layer
//	input x: int8[1,3] zp=-1
//	const w: int8[2,3] = [1 2 3 -1 -2 -3]
//	const b: int32[2] = [0 10]
//	const m: int32[2] = fill(1073741824)
//	const s: int8[2] = fill(31)
//	y: int8[1,2] zp=5 = FullyConnected(x, w, b, m, s) qmin=-128 qmax=127
//	output y
//	fresh element=0 maxAge=60
//
// Attributes are the op's attribute fields in lowerCamel case (docs/spec.md);
// array attributes are written [a,b,c]. Constants take a list [v v ...] or
// fill(v). zp defaults to 0. The text is compiled with inference.Builder, so
// a parsed model is canonical and valid, or an error says which line is wrong.
package modeltext

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode"

	"github.com/infergeth/infergeth/inference"
)

// Parsed is a compiled text model.
type Parsed struct {
	Model *inference.Model
	// Bytes is the canonical encoding.
	Bytes []byte
	// Names[t] is tensor t's name in the text.
	Names []string
}

// Parse compiles the text form into a validated model and its canonical bytes.
func Parse(text string) (*Parsed, error) {
	p := parser{names: map[string]int{}}
	for i, line := range strings.Split(text, "\n") {
		if j := strings.IndexByte(line, '#'); j >= 0 {
			line = line[:j]
		}
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		if err := p.line(line); err != nil {
			return nil, fmt.Errorf("line %d: %w", i+1, err)
		}
	}
	m, b, err := p.b.Build()
	if err != nil {
		return nil, err
	}
	names := make([]string, len(m.Tensors))
	for n, t := range p.names {
		names[t] = n
	}
	return &Parsed{Model: m, Bytes: b, Names: names}, nil
}

type parser struct {
	b     inference.Builder
	names map[string]int
}

func (p *parser) line(line string) error {
	word, rest, _ := strings.Cut(line, " ")
	rest = strings.TrimSpace(rest)
	switch word {
	case "input":
		name, spec, err := p.decl(rest)
		if err != nil {
			return err
		}
		return p.define(name, p.b.Input(spec))
	case "const":
		return p.constant(rest)
	case "output":
		for _, n := range strings.Split(rest, ",") {
			t, err := p.ref(strings.TrimSpace(n))
			if err != nil {
				return err
			}
			p.b.Output(t)
		}
		return nil
	case "fresh":
		var f inference.Freshness
		if err := setFields(reflect.ValueOf(&f).Elem(), strings.Fields(rest)); err != nil {
			return err
		}
		p.b.Fresh(f)
		return nil
	}
	return p.node(line)
}

func (p *parser) define(name string, t int) error {
	if _, dup := p.names[name]; dup {
		return fmt.Errorf("%q is defined twice", name)
	}
	p.names[name] = t
	return nil
}

func (p *parser) ref(name string) (int, error) {
	t, ok := p.names[name]
	if !ok {
		return 0, fmt.Errorf("unknown tensor %q", name)
	}
	return t, nil
}

// decl parses "NAME: DTYPE[dims] zp=Z" and returns what follows.
func (p *parser) decl(s string) (string, inference.Spec, error) {
	name, typ, ok := strings.Cut(s, ":")
	if !ok {
		return "", inference.Spec{}, fmt.Errorf("want NAME: DTYPE[dims], got %q", s)
	}
	spec, err := parseSpec(strings.TrimSpace(typ))
	return strings.TrimSpace(name), spec, err
}

func parseSpec(s string) (inference.Spec, error) {
	var spec inference.Spec
	fields := strings.Fields(s)
	if len(fields) == 0 {
		return spec, fmt.Errorf("missing type")
	}
	dt, dims, ok := strings.Cut(fields[0], "[")
	if !ok || !strings.HasSuffix(dims, "]") {
		return spec, fmt.Errorf("want DTYPE[dims], got %q", fields[0])
	}
	switch dt {
	case "int8":
		spec.DType = inference.Int8
	case "int16":
		spec.DType = inference.Int16
	case "int32":
		spec.DType = inference.Int32
	default:
		return spec, fmt.Errorf("unknown dtype %q", dt)
	}
	spec.Shape = []int{}
	if dims = strings.TrimSuffix(dims, "]"); dims != "" {
		for _, d := range strings.Split(dims, ",") {
			v, err := strconv.Atoi(strings.TrimSpace(d))
			if err != nil {
				return spec, fmt.Errorf("dimension %q: %w", d, err)
			}
			spec.Shape = append(spec.Shape, v)
		}
	}
	for _, f := range fields[1:] {
		v, ok := strings.CutPrefix(f, "zp=")
		if !ok {
			return spec, fmt.Errorf("unexpected %q", f)
		}
		zp, err := strconv.ParseInt(v, 10, 32)
		if err != nil {
			return spec, fmt.Errorf("zp: %w", err)
		}
		spec.ZeroPoint = int32(zp)
	}
	return spec, nil
}

func (p *parser) constant(s string) error {
	lhs, values, ok := strings.Cut(s, "=")
	// zp=Z also contains '=': the value part starts at " = ".
	if i := strings.Index(s, " = "); i >= 0 {
		lhs, values, ok = s[:i], s[i+3:], true
	}
	if !ok {
		return fmt.Errorf("const needs '= [values]' or '= fill(v)'")
	}
	name, spec, err := p.decl(lhs)
	if err != nil {
		return err
	}
	n := 1
	for _, d := range spec.Shape {
		if d < 1 || n > 1<<26/d {
			return fmt.Errorf("const %s: shape %v too large for text", name, spec.Shape)
		}
		n *= d
	}
	vals, err := parseValues(strings.TrimSpace(values), n)
	if err != nil {
		return fmt.Errorf("const %s: %w", name, err)
	}
	return p.define(name, p.b.Const(spec.DType, spec.ZeroPoint, spec.Shape, vals))
}

func parseValues(s string, n int) ([]int64, error) {
	if v, ok := strings.CutPrefix(s, "fill("); ok && strings.HasSuffix(v, ")") {
		x, err := strconv.ParseInt(strings.TrimSuffix(v, ")"), 10, 64)
		if err != nil {
			return nil, err
		}
		out := make([]int64, n)
		for i := range out {
			out[i] = x
		}
		return out, nil
	}
	if !strings.HasPrefix(s, "[") || !strings.HasSuffix(s, "]") {
		return nil, fmt.Errorf("want [v v ...] or fill(v), got %q", s)
	}
	out, err := ParseInts(s[1 : len(s)-1])
	if err != nil {
		return nil, err
	}
	if len(out) != n {
		return nil, fmt.Errorf("%d values for %d elements", len(out), n)
	}
	return out, nil
}

// ParseInts reads integers separated by spaces or commas.
func ParseInts(s string) ([]int64, error) {
	var out []int64
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || unicode.IsSpace(r) }) {
		v, err := strconv.ParseInt(f, 10, 64)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// node parses "NAME: DTYPE[dims] zp=Z = OP(a, b) attr=v ...".
func (p *parser) node(line string) error {
	i := strings.Index(line, " = ")
	if i < 0 {
		return fmt.Errorf("want NAME: DTYPE[dims] = OP(operands) attrs, got %q", line)
	}
	name, spec, err := p.decl(line[:i])
	if err != nil {
		return err
	}
	call := strings.TrimSpace(line[i+3:])
	open, close := strings.IndexByte(call, '('), strings.IndexByte(call, ')')
	if open < 0 || close < open {
		return fmt.Errorf("want OP(operands), got %q", call)
	}
	op, ok := inference.OpByName(call[:open])
	if !ok {
		return fmt.Errorf("unknown op %q", call[:open])
	}
	var inputs []int
	for _, a := range strings.Split(call[open+1:close], ",") {
		t, err := p.ref(strings.TrimSpace(a))
		if err != nil {
			return err
		}
		inputs = append(inputs, t)
	}
	attrs := inference.NewAttrs(op)
	if err := setFields(reflect.ValueOf(attrs).Elem(), strings.Fields(call[close+1:])); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	return p.define(name, p.b.Node(op, attrs, spec, inputs...))
}

// setFields assigns name=value pairs to the (lowerCamel) fields of a struct,
// looking into embedded structs.
func setFields(v reflect.Value, pairs []string) error {
	for _, kv := range pairs {
		k, val, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("want name=value, got %q", kv)
		}
		f := findField(v, k)
		if !f.IsValid() {
			return fmt.Errorf("no attribute %q", k)
		}
		if f.Kind() == reflect.Array {
			vals, err := ParseInts(strings.Trim(val, "[]"))
			if err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			if len(vals) > f.Len() {
				return fmt.Errorf("%s: %d values for %d slots", k, len(vals), f.Len())
			}
			for i, x := range vals {
				if err := setInt(f.Index(i), x); err != nil {
					return fmt.Errorf("%s: %w", k, err)
				}
			}
			continue
		}
		x, err := strconv.ParseInt(val, 10, 64)
		if err != nil {
			u, uerr := strconv.ParseUint(val, 10, 64)
			if uerr != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
			f.SetUint(u)
			continue
		}
		if err := setInt(f, x); err != nil {
			return fmt.Errorf("%s: %w", k, err)
		}
	}
	return nil
}

func setInt(f reflect.Value, x int64) error {
	switch f.Kind() {
	case reflect.Int32:
		if x != int64(int32(x)) {
			return fmt.Errorf("%d does not fit int32", x)
		}
		f.SetInt(x)
	case reflect.Uint32:
		if x < 0 || x != int64(uint32(x)) {
			return fmt.Errorf("%d does not fit uint32", x)
		}
		f.SetUint(uint64(x))
	case reflect.Uint64:
		if x < 0 {
			return fmt.Errorf("%d is negative", x)
		}
		f.SetUint(uint64(x))
	default:
		return fmt.Errorf("unsupported field kind %s", f.Kind())
	}
	return nil
}

func findField(v reflect.Value, name string) reflect.Value {
	t := v.Type()
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		if sf.Anonymous {
			if f := findField(v.Field(i), name); f.IsValid() {
				return f
			}
			continue
		}
		if lowerCamel(sf.Name) == name {
			return v.Field(i)
		}
	}
	return reflect.Value{}
}

// lowerCamel turns a Go field name into its spec name: QMin → qmin,
// StrideH → strideH, FeedMultiplier → feedMultiplier.
func lowerCamel(s string) string {
	switch s {
	case "QMin":
		return "qmin"
	case "QMax":
		return "qmax"
	}
	return strings.ToLower(s[:1]) + s[1:]
}
