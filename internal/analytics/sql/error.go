package sql

import "fmt"

// Error is a syntax or semantic error in application code, positioned at a
// line and column (both 1-based). The API layer returns it as AWS does, as
// a CodeValidationException whose message names the position.
type Error struct {
	Line, Col int
	Msg       string
}

func (e *Error) Error() string {
	return fmt.Sprintf("SQL error at line %d, column %d: %s", e.Line, e.Col, e.Msg)
}

func errorf(line, col int, format string, args ...any) *Error {
	return &Error{Line: line, Col: col, Msg: fmt.Sprintf(format, args...)}
}

// Errorf builds an Error at pos; the planner uses it for semantic errors.
func Errorf(pos Pos, format string, args ...any) *Error {
	return errorf(pos.Line, pos.Col, format, args...)
}
