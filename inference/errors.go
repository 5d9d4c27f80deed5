package inference

import (
	"errors"
	"fmt"
)

// ErrInvalidModel is matched (errors.Is) by every refusal of a model at
// decode or validate.
var ErrInvalidModel = errors.New("invalid model")

// ModelError is a refusal of a model: the field it concerns and why, with
// the limit where one applies. It never carries a panic.
type ModelError struct {
	// Field locates the offending value, e.g. "tensors[3].shape[1]".
	Field string
	// Reason says what is wrong, e.g. "300000 exceeds MaxTensorDim (262144)".
	Reason string
}

func (e *ModelError) Error() string { return "invalid model: " + e.Field + ": " + e.Reason }

// Unwrap makes errors.Is(err, ErrInvalidModel) hold.
func (e *ModelError) Unwrap() error { return ErrInvalidModel }

func refuse(field, format string, args ...any) error {
	return &ModelError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// ErrBadInput is matched by every refusal of a call's input (wrong length,
// an index out of range at run time). It is the caller's fault, not the model's.
var ErrBadInput = errors.New("bad input")

// InputError is a refusal of a call's input.
type InputError struct{ Reason string }

func (e *InputError) Error() string { return "bad input: " + e.Reason }
func (e *InputError) Unwrap() error { return ErrBadInput }

// BadInput returns an InputError.
func BadInput(format string, args ...any) error {
	return &InputError{Reason: fmt.Sprintf(format, args...)}
}
