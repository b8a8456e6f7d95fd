package rules

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// DecodeError is a JSON document that could not be read into a
// Configuration: bad syntax, a wrong type, or an unknown field.
type DecodeError struct {
	Line int // 1-based; 0 when unknown
	Msg  string
}

func (e *DecodeError) Error() string {
	if e.Line == 0 {
		return e.Msg
	}
	return fmt.Sprintf("line %d: %s", e.Line, e.Msg)
}

// getOutput is the shape `aws s3api get-bucket-replication` prints.
type getOutput struct {
	ReplicationConfiguration *Configuration `json:"ReplicationConfiguration"`
}

// ParseJSON reads a ReplicationConfiguration as given to
// `aws s3api put-bucket-replication --replication-configuration` (or as
// printed by get-bucket-replication, wrapped in "ReplicationConfiguration")
// and validates it. Unknown fields are errors: a misspelt field would
// otherwise silently change what gets replicated.
func ParseJSON(data []byte) (*Configuration, error) {
	var c *Configuration
	if isGetOutput(data) {
		var out getOutput
		if err := decodeStrict(data, &out); err != nil {
			return nil, err
		}
		c = out.ReplicationConfiguration
	} else if err := decodeStrict(data, &c); err != nil {
		return nil, err
	}
	if c == nil {
		return nil, errors.New("replication configuration is null")
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// isGetOutput reports whether data is a JSON object whose only key is
// "ReplicationConfiguration".
func isGetOutput(data []byte) bool {
	var probe map[string]json.RawMessage
	if json.Unmarshal(data, &probe) != nil || len(probe) != 1 {
		return false
	}
	_, ok := probe["ReplicationConfiguration"]
	return ok
}

func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return describeJSONError(data, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return &DecodeError{Line: lineAt(data, dec.InputOffset()), Msg: "unexpected data after the JSON document"}
	}
	// encoding/json matches field names case-insensitively; the AWS CLI
	// does not, so neither does ferry: a document ferry accepts must also
	// be one AWS accepts.
	var generic any
	if err := json.Unmarshal(data, &generic); err != nil {
		return &DecodeError{Msg: err.Error()}
	}
	if key, want, bad := miscased(generic, reflect.TypeOf(v)); bad {
		return &DecodeError{Line: keyLine(data, key), Msg: fmt.Sprintf("unknown field %q (did you mean %q?)", key, want)}
	}
	return nil
}

// miscased finds a JSON key that matches a field of t only when case is
// ignored, and returns it with the field's real name.
func miscased(v any, t reflect.Type) (key, want string, bad bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.Slice:
		items, _ := v.([]any)
		for _, item := range items {
			if key, want, bad := miscased(item, t.Elem()); bad {
				return key, want, true
			}
		}
	case reflect.Struct:
		obj, _ := v.(map[string]any)
		for _, k := range slices.Sorted(maps.Keys(obj)) {
			f, exact := jsonField(t, k)
			if f == nil {
				continue // unknown fields were rejected by the decoder
			}
			if !exact {
				return k, jsonName(*f), true
			}
			if key, want, bad := miscased(obj[k], f.Type); bad {
				return key, want, true
			}
		}
	}
	return "", "", false
}

// jsonField finds the struct field a JSON key decodes into.
func jsonField(t reflect.Type, key string) (*reflect.StructField, bool) {
	var folded *reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name := jsonName(f)
		if name == key {
			return &f, true
		}
		if folded == nil && strings.EqualFold(name, key) {
			folded = &f
		}
	}
	return folded, false
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		return f.Name
	}
	return name
}

// keyLine is the line of the first `"key":` in data (0 if not found):
// encoding/json does not say where a field was, and the first occurrence
// is almost always the culprit.
func keyLine(data []byte, key string) int {
	quoted, _ := json.Marshal(key)
	at := regexp.MustCompile(regexp.QuoteMeta(string(quoted)) + `\s*:`).FindIndex(data)
	if at == nil {
		return 0
	}
	return lineAt(data, int64(at[0]))
}

// describeJSONError adds the line number to encoding/json's errors, which
// only carry a byte offset (or, for unknown fields, nothing at all).
func describeJSONError(data []byte, err error) error {
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.Is(err, io.EOF):
		return &DecodeError{Msg: "empty document"}
	case errors.Is(err, io.ErrUnexpectedEOF):
		return &DecodeError{Line: lineAt(data, int64(len(data))), Msg: "unexpected end of JSON document"}
	case errors.As(err, &syntax):
		return &DecodeError{Line: lineAt(data, syntax.Offset), Msg: strings.TrimPrefix(syntax.Error(), "json: ")}
	case errors.As(err, &typ):
		return &DecodeError{Line: lineAt(data, typ.Offset), Msg: fmt.Sprintf("%s: JSON %s where %s was expected", typ.Field, typ.Value, typ.Type)}
	}
	if quoted, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name, uerr := strconv.Unquote(quoted)
		if uerr != nil {
			name = quoted
		}
		return &DecodeError{Line: keyLine(data, name), Msg: fmt.Sprintf("unknown field %q", name)}
	}
	return &DecodeError{Msg: err.Error()}
}

// lineAt is the 1-based line of a byte offset.
func lineAt(data []byte, offset int64) int {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	return 1 + bytes.Count(data[:offset], []byte("\n"))
}
