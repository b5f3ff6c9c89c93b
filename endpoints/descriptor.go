package endpoints

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"path"
	"regexp"
	"sort"
	"strings"
)

// Descriptor kinds: the file extension says which.
const (
	// KindWebSocket is a `.websocket` file: an endpoint served at
	// /websockets/v4/service/{endpoint} (and at Path, if set).
	KindWebSocket = "websocket"
	// KindHTTP is a `.http` file: a handler's onRequest mounted at Path.
	KindHTTP = "http"
)

// Descriptor is one parsed descriptor file: an endpoint or HTTP path bound to a
// handler module.
type Descriptor struct {
	// Kind is KindWebSocket or KindHTTP.
	Kind string
	// Endpoint is the single path segment a WebSocket endpoint is served at.
	Endpoint string
	// Path is the absolute path an HTTP handler is mounted at, or the extra path a
	// WebSocket endpoint is also served at ("" for none).
	Path string
	// Methods are the HTTP methods an HTTP handler answers (default GET).
	Methods []string
	// Compression opts a WebSocket endpoint in to permessage-deflate.
	Compression bool
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

// Key identifies the descriptor within its project's handlers: the endpoint name of
// a WebSocket descriptor, the path of an HTTP one (endpoint names never start with /).
func (d *Descriptor) Key() string {
	if d.Kind == KindHTTP {
		return d.Path
	}
	return d.Endpoint
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

// fields are the descriptor fields blimp reads, per kind.
var fields = map[string]map[string]bool{
	KindWebSocket: {"handler": true, "endpoint": true, "description": true, "path": true, "compression": true},
	KindHTTP:      {"handler": true, "path": true, "methods": true, "description": true},
}

// exampleOf shows the shape of a descriptor of each kind, for error messages.
var exampleOf = map[string]string{
	KindWebSocket: `{"endpoint": "chat", "handler": "my-project/chat"}`,
	KindHTTP:      `{"path": "/api/info", "handler": "my-project/info", "methods": ["GET"]}`,
}

// missingHint says how to add each required field, for error messages.
var missingHint = map[string]string{
	"endpoint": `the endpoint name, like "endpoint": "chat"`,
	"handler":  `the handler module, like "handler": "my-project/chat"`,
	"path":     `the absolute path to serve at, like "path": "/api/info"`,
}

// httpMethods are the methods an HTTP descriptor may list.
var httpMethods = map[string]bool{"GET": true, "HEAD": true, "POST": true, "PUT": true, "PATCH": true, "DELETE": true, "OPTIONS": true}

// reservedPaths are served by blimp itself; no descriptor may claim a path under them.
var reservedPaths = []string{"/websockets", "/admin"}

// Parse parses a descriptor file by its extension: `.websocket` or `.http`.
func Parse(file string, data []byte) (*Descriptor, error) {
	if strings.HasSuffix(file, HTTPExt) {
		return ParseHTTPDescriptor(file, data)
	}
	return ParseDescriptor(file, data)
}

// ParseDescriptor parses the `.websocket` descriptor JSON in data, read from file.
// It checks the fields on their own; handler resolution needs the filesystem and
// is the scanner's.
func ParseDescriptor(file string, data []byte) (*Descriptor, error) {
	return parse(file, data, KindWebSocket)
}

// ParseHTTPDescriptor parses the `.http` descriptor JSON in data, read from file.
func ParseHTTPDescriptor(file string, data []byte) (*Descriptor, error) {
	return parse(file, data, KindHTTP)
}

// utf8BOM is the byte-order mark some Windows editors write at the start of a UTF-8
// file. It is not part of the JSON; editors do not show it as a column.
var utf8BOM = []byte("\xef\xbb\xbf")

func parse(file string, data []byte, kind string) (*Descriptor, error) {
	o, err := decodeObject(file, data, "a "+kind+" descriptor is a JSON object like "+exampleOf[kind]+", got %s", "descriptor")
	if err != nil {
		return nil, err
	}
	raw, problem := o.raw, o.problem
	d := &Descriptor{File: file, Kind: kind}
	str := func(key string, dst *string, required bool) {
		v, ok := raw[key]
		if !ok {
			if required {
				problem(key, fmt.Errorf("missing %q: add %s", key, missingHint[key]))
			}
			return
		}
		if err := json.Unmarshal(v, dst); err != nil {
			problem(key, fmt.Errorf("%q must be a string, got %s", key, v))
			return
		}
		if required && strings.TrimSpace(*dst) == "" {
			problem(key, fmt.Errorf("%q must not be empty", key))
		}
	}
	if kind == KindWebSocket {
		str("endpoint", &d.Endpoint, true)
	}
	str("handler", &d.Handler, true)
	str("path", &d.Path, kind == KindHTTP)
	str("description", &d.Description, false)
	if d.Endpoint != "" {
		if err := checkEndpointName(d.Endpoint); err != nil {
			problem("endpoint", err)
		}
	}
	if d.Handler != "" {
		if err := checkHandlerPath(d.Handler); err != nil {
			problem("handler", err)
		}
	}
	if d.Path != "" {
		if err := checkMountPath(d.Path); err != nil {
			problem("path", err)
		}
	}
	if v, ok := raw["compression"]; ok && kind == KindWebSocket {
		if err := json.Unmarshal(v, &d.Compression); err != nil {
			problem("compression", fmt.Errorf(`"compression" must be true or false, got %s`, v))
		}
	}
	if kind == KindHTTP {
		if err := parseMethods(raw["methods"], d); err != nil {
			problem("methods", err)
		}
	}
	if err := o.err(); err != nil {
		return nil, err
	}
	for k := range raw {
		if !fields[kind][k] {
			d.Unknown = append(d.Unknown, k)
		}
	}
	sort.Strings(d.Unknown)
	return d, nil
}

// jsonObject is the JSON object of a user's file, with the positions of its members'
// values, collecting the problems found in it, each an *Error of its own at the value
// of the member it is about (so that every line printed for it names the file).
type jsonObject struct {
	file string
	data []byte
	raw  map[string]json.RawMessage
	at   map[string]int64
	errs []error
}

// decodeObject reads the JSON object file holds (a leading UTF-8 byte-order mark
// ignored, as editors do). notObject formats the error for JSON that is not an
// object, with %s for what it is; what names the object for trailing data.
func decodeObject(file string, data []byte, notObject, what string) (*jsonObject, error) {
	// Positions count from the first character after a byte-order mark, as editors do.
	data = bytes.TrimPrefix(data, utf8BOM)
	fail := func(offset int64, format string, args ...any) (*jsonObject, error) {
		line, col := position(data, offset)
		return nil, &Error{File: file, Line: line, Col: col, Err: fmt.Errorf(format, args...)}
	}
	if bytes.HasPrefix(data, []byte("\xff\xfe")) || bytes.HasPrefix(data, []byte("\xfe\xff")) {
		return nil, &Error{File: file, Err: errors.New("the file is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8")}
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
			return fail(typ.Offset, notObject, typ.Value)
		default:
			return fail(int64(len(data)), "invalid JSON: %v", err)
		}
	}
	if raw == nil {
		return fail(0, notObject, "null")
	}
	if dec.More() {
		return fail(dec.InputOffset(), "unexpected data after the %s object", what)
	}
	return &jsonObject{file: file, data: data, raw: raw, at: valueOffsets(data)}, nil
}

// problem records err about the member key.
func (o *jsonObject) problem(key string, err error) {
	e := &Error{File: o.file, Err: err}
	if offset, ok := o.at[key]; ok {
		e.Line, e.Col = position(o.data, offset)
	}
	o.errs = append(o.errs, e)
}

// err returns the problems recorded, joined, or nil.
func (o *jsonObject) err() error {
	if len(o.errs) == 1 {
		return o.errs[0]
	}
	return errors.Join(o.errs...)
}

// valueOffsets returns the byte offset in data of the value of each member of the
// JSON object data holds. data must already have decoded without error.
func valueOffsets(data []byte) map[string]int64 {
	at := map[string]int64{}
	dec := json.NewDecoder(bytes.NewReader(data))
	if _, err := dec.Token(); err != nil { // the object's '{'
		return at
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return at
		}
		key, _ := tok.(string)
		offset := dec.InputOffset() // just past the key; the value follows spaces and ':'
		for offset < int64(len(data)) && strings.IndexByte(" \t\r\n:", data[offset]) >= 0 {
			offset++
		}
		at[key] = offset // the last of duplicate keys wins, as in decoding
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return at
		}
	}
	return at
}

// checkEndpointName rejects endpoint names that are not one path segment a client
// can reach: "." and ".." are removed from URLs by browsers and HTTP clients
// (RFC 3986, section 5.2.4), so /websockets/v4/service/.. never arrives as such.
func checkEndpointName(name string) error {
	if !endpointName.MatchString(name) {
		return fmt.Errorf("endpoint %q must be one path segment of letters, digits, '.', '_' or '-', like \"chat\"", name)
	}
	if name == "." || name == ".." {
		return fmt.Errorf("endpoint %q cannot be reached: clients remove \".\" and \"..\" segments from URLs; choose another name, like \"chat\"", name)
	}
	return nil
}

// parseMethods reads the optional "methods" array of an HTTP descriptor.
func parseMethods(v json.RawMessage, d *Descriptor) error {
	if v == nil {
		d.Methods = []string{"GET"}
		return nil
	}
	var methods []string
	if err := json.Unmarshal(v, &methods); err != nil || len(methods) == 0 {
		return fmt.Errorf(`"methods" must be a non-empty array of method names like ["GET", "POST"], got %s`, v)
	}
	for _, m := range methods {
		if !httpMethods[m] {
			return fmt.Errorf(`"methods": %q is not one of GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (upper case)`, m)
		}
	}
	d.Methods = methods
	return nil
}

// checkMountPath rejects paths that are not clean absolute URL paths, or that lie
// under the paths blimp serves itself.
func checkMountPath(p string) error {
	if !strings.HasPrefix(p, "/") {
		return fmt.Errorf("path %q must be absolute, like \"/api/info\"", p)
	}
	if strings.ContainsAny(p, "?#%\\ \t\n") || path.Clean(p) != p {
		return fmt.Errorf("path %q must be a clean URL path (no '.', '..' or empty segments, no trailing '/', no ?, #, %%, spaces)", p)
	}
	for _, r := range reservedPaths {
		if p == r || strings.HasPrefix(p, r+"/") {
			return fmt.Errorf("path %q is under %s/, which blimp serves itself; choose another path", p, r)
		}
	}
	return nil
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
