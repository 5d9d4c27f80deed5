package inference

// Backend computes models. Every backend gives the bytes of the reference
// backend (inference/reference) for every valid model and input: that is a
// consensus rule, tested bit for bit.
type Backend interface {
	// Name is how users select the backend (--backend NAME).
	Name() string
	// Prepare readies a validated model for repeated calls, e.g. by packing
	// its weights.
	Prepare(m *Model) (Program, error)
}

// Program runs one prepared model. Run is safe for concurrent use.
type Program interface {
	// Run computes the output bytes for input, which must be exactly
	// Model.InputBytes() long (else an error matching ErrBadInput).
	Run(input []byte) ([]byte, error)
}

// Holder is a Program that can say how much memory it keeps for as long as
// it lives, beyond the Model it runs: packed weights, folded constants,
// tables (not a Run's transient buffers). A cache of programs bounds what
// they hold with it (inference/runtime); a program that is not a Holder is
// assumed to keep a copy of every constant of its model.
type Holder interface {
	HeldBytes() int
}
