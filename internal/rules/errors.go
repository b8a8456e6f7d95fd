package rules

import "fmt"

// FieldError is one problem in a ReplicationConfiguration. Validate
// returns all of them joined (errors.Join); callers that want to point at
// the place in a file (package config does, for inline YAML) can take them
// apart with errors.As or by unwrapping the join.
type FieldError struct {
	// Index is the rule's position in Rules, or -1 for a problem with the
	// document itself (Role, the list of rules as a whole).
	Index int
	// ID is the rule's ID ("" when unnamed or document-level).
	ID string
	// Field is the path inside the rule (or document), with AWS's names:
	// "Destination.Bucket", "Filter.And.Tags[1].Key", "Role".
	Field string
	// Problem says what is wrong, and where possible what to write instead.
	Problem string
}

func (e *FieldError) Error() string {
	switch {
	case e.Index < 0:
		return e.Field + ": " + e.Problem
	case e.ID != "":
		return fmt.Sprintf("rule %q (Rules[%d]): %s: %s", e.ID, e.Index, e.Field, e.Problem)
	default:
		return fmt.Sprintf("Rules[%d]: %s: %s", e.Index, e.Field, e.Problem)
	}
}

// Path is the field's full path in the document, e.g.
// "Rules[1].Destination.Bucket".
func (e *FieldError) Path() string {
	if e.Index < 0 {
		return e.Field
	}
	return fmt.Sprintf("Rules[%d].%s", e.Index, e.Field)
}

// problems collects FieldErrors for one rule (or the document).
type problems struct {
	index int
	id    string
	errs  []error
}

func (p *problems) add(field, format string, args ...any) {
	p.errs = append(p.errs, &FieldError{
		Index:   p.index,
		ID:      p.id,
		Field:   field,
		Problem: fmt.Sprintf(format, args...),
	})
}
