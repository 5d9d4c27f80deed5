package inference

import "fmt"

// Builder assembles a model in Go: the vector generator, the importers and
// tests use it. Build encodes and decodes the result, so a built model is
// always canonical and valid.
type Builder struct {
	m Model
}

// Spec describes an activation tensor a builder creates.
type Spec struct {
	DType     DType
	ZeroPoint int32
	Shape     []int
}

// Input adds a graph input.
func (b *Builder) Input(s Spec) int {
	t := b.activation(s)
	b.m.Inputs = append(b.m.Inputs, t)
	return t
}

func (b *Builder) activation(s Spec) int {
	b.m.Tensors = append(b.m.Tensors, Tensor{Kind: Activation, DType: s.DType, ZeroPoint: s.ZeroPoint, Shape: append([]int{}, s.Shape...)})
	return len(b.m.Tensors) - 1
}

// Const adds a constant tensor with the given values (len = elements).
func (b *Builder) Const(dt DType, zp int32, shape []int, values []int64) int {
	t := Tensor{Kind: Constant, DType: dt, ZeroPoint: zp, Shape: append([]int{}, shape...)}
	t.Data = make([]byte, len(values)*dt.Size())
	for i, v := range values {
		Store(t.Data, dt, i, v)
	}
	b.m.Tensors = append(b.m.Tensors, t)
	return len(b.m.Tensors) - 1
}

// Node adds a node whose output is a new activation described by out, and
// returns the output's tensor index.
func (b *Builder) Node(op Op, attrs Attrs, out Spec, inputs ...int) int {
	t := b.activation(out)
	b.m.Nodes = append(b.m.Nodes, Node{Op: op, Inputs: append([]int{}, inputs...), Output: t, Attrs: attrs})
	return t
}

// Output marks tensors as graph outputs, in order.
func (b *Builder) Output(ts ...int) { b.m.Outputs = append(b.m.Outputs, ts...) }

// Fresh adds a freshness requirement.
func (b *Builder) Fresh(f Freshness) { b.m.Freshness = append(b.m.Freshness, f) }

// Shape returns the shape of tensor t.
func (b *Builder) Shape(t int) []int { return b.m.Tensors[t].Shape }

// Tensor returns tensor t as built so far.
func (b *Builder) Tensor(t int) Tensor { return b.m.Tensors[t] }

// Build encodes the model and decodes it back, returning the validated
// model and its canonical bytes.
func (b *Builder) Build() (*Model, []byte, error) {
	enc, err := Encode(&b.m)
	if err != nil {
		return nil, nil, err
	}
	m, err := Decode(enc)
	if err != nil {
		return nil, nil, fmt.Errorf("built model: %w", err)
	}
	return m, enc, nil
}
