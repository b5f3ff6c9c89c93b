package endpoints

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strings"
)

// Descriptor is one parsed `.websocket` file: an endpoint bound to a handler module.
type Descriptor struct {
	// Endpoint is the single path segment the endpoint is served at.
	Endpoint string
	// Handler is the handler module path as written, relative to the projects root.
	Handler string
	// Description is free text.
	Description string

	// File is the descriptor's path on disk.
	File string
	// Project is the name of the project folder holding the file.
	Project string
	// HandlerFile is the resolved handler module path on disk (set by the scanner).
	HandlerFile string
	// Unknown lists fields blimp does not know (kept as warnings, as Dirigible files
	// carry extras such as createdBy).
	Unknown []string
}

// Error is a problem with a user's file: a descriptor, a handler or a config file.
// Line and Col are 1-based and zero when unknown.
type Error struct {
	File string
	Line int
	Col  int
	Err  error
}

func (e *Error) Error() string {
	switch {
	case e.Line > 0 && e.Col > 0:
		return fmt.Sprintf("%s:%d:%d: %v", e.File, e.Line, e.Col, e.Err)
	case e.Line > 0:
		return fmt.Sprintf("%s:%d: %v", e.File, e.Line, e.Err)
	default:
		return fmt.Sprintf("%s: %v", e.File, e.Err)
	}
}

func (e *Error) Unwrap() error { return e.Err }

var endpointName = regexp.MustCompile(`^[A-Za-z0-9._-]+$`)

// knownFields are the descriptor fields blimp reads.
var knownFields = map[string]bool{"handler": true, "endpoint": true, "description": true}

// ParseDescriptor parses the descriptor JSON in data, read from file. It checks the
// fields on their own; handler resolution needs the filesystem and is the scanner's.
func ParseDescriptor(file string, data []byte) (*Descriptor, error) {
	fail := func(offset int64, format string, args ...any) (*Descriptor, error) {
		line, col := position(data, offset)
		return nil, &Error{File: file, Line: line, Col: col, Err: fmt.Errorf(format, args...)}
	}
	var raw map[string]json.RawMessage
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&raw); err != nil {
		var syn *json.SyntaxError
		var typ *json.UnmarshalTypeError
		switch {
		case errors.As(err, &syn):
			return fail(syn.Offset-1, "invalid JSON: %v", syn) // Offset is just past the bad byte
		case errors.As(err, &typ):
			return fail(typ.Offset, "a descriptor is a JSON object like {\"endpoint\": \"chat\", \"handler\": \"my-project/chat\"}, got %s", typ.Value)
		default:
			return fail(int64(len(data)), "invalid JSON: %v", err)
		}
	}
	if raw == nil {
		return fail(0, "a descriptor is a JSON object like {\"endpoint\": \"chat\", \"handler\": \"my-project/chat\"}, got null")
	}
	if dec.More() {
		return fail(dec.InputOffset(), "unexpected data after the descriptor object")
	}
	d := &Descriptor{File: file}
	str := func(key string, dst *string, required bool) error {
		v, ok := raw[key]
		if !ok {
			if required {
				return fmt.Errorf("missing %q", key)
			}
			return nil
		}
		if err := json.Unmarshal(v, dst); err != nil {
			return fmt.Errorf("%q must be a string, got %s", key, v)
		}
		if required && strings.TrimSpace(*dst) == "" {
			return fmt.Errorf("%q must not be empty", key)
		}
		return nil
	}
	var errs []error
	for _, f := range []struct {
		key      string
		dst      *string
		required bool
	}{{"endpoint", &d.Endpoint, true}, {"handler", &d.Handler, true}, {"description", &d.Description, false}} {
		if err := str(f.key, f.dst, f.required); err != nil {
			errs = append(errs, err)
		}
	}
	if d.Endpoint != "" && !endpointName.MatchString(d.Endpoint) {
		errs = append(errs, fmt.Errorf("endpoint %q must be one path segment of letters, digits, '.', '_' or '-'", d.Endpoint))
	}
	if d.Handler != "" {
		if err := checkHandlerPath(d.Handler); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, &Error{File: file, Err: errors.Join(errs...)}
	}
	for k := range raw {
		if !knownFields[k] {
			d.Unknown = append(d.Unknown, k)
		}
	}
	sort.Strings(d.Unknown)
	return d, nil
}

// checkHandlerPath rejects handler paths that could not name a module inside a project.
func checkHandlerPath(h string) error {
	if strings.HasPrefix(h, "/") || strings.Contains(h, `\`) {
		return fmt.Errorf("handler %q must be relative to the projects root, like \"my-project/handler\"", h)
	}
	for _, seg := range strings.Split(h, "/") {
		if seg == "" || seg == "." || seg == ".." {
			return fmt.Errorf("handler %q must be a plain path inside its project, like \"my-project/handler\" (no empty, '.' or '..' segments)", h)
		}
	}
	if !strings.Contains(h, "/") {
		return fmt.Errorf("handler %q must start with its project folder, like \"my-project/%s\"", h, h)
	}
	return nil
}

// position converts a byte offset in data into a 1-based line and column.
func position(data []byte, offset int64) (line, col int) {
	if offset > int64(len(data)) {
		offset = int64(len(data))
	}
	if offset < 0 {
		offset = 0
	}
	before := data[:offset]
	line = bytes.Count(before, []byte("\n")) + 1
	col = int(offset) - (bytes.LastIndexByte(before, '\n') + 1) + 1
	return line, col
}
