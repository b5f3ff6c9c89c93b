package store

import (
	"bytes"
	"errors"
	"strconv"
	"unicode/utf16"
	"unicode/utf8"
)

// This file reads the JSON that Save writes, without encoding/json:
// lookup finds the raw bytes of one field so that filters, sorting and
// grouping look at a few bytes of each document instead of decoding all of
// it, and decode turns raw JSON into the Go values the package returns
// (integers as int64, other numbers as float64, like goja's Export).
//
// The input is always JSON written by encoding/json, but a damaged file must
// not crash the server, so every function checks its bounds and reports
// errMalformed instead of panicking. They do not check every rule of the
// JSON grammar: that is encoding/json's job when the document is written.

// errMalformed reports stored bytes that are not the JSON Save wrote.
var errMalformed = errors.New("malformed JSON")

// maxDepth bounds how deeply decode nests, so that damaged data cannot
// exhaust the stack.
const maxDepth = 10000

func skipSpace(b []byte, i int) int {
	for i < len(b) {
		switch b[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// valueEnd returns the index just past the JSON value that starts at b[i].
func valueEnd(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errMalformed
	}
	switch c := b[i]; {
	case c == '"':
		return stringEnd(b, i)
	case c == '{' || c == '[':
		return compositeEnd(b, i)
	case c == 't':
		return literalEnd(b, i, "true")
	case c == 'f':
		return literalEnd(b, i, "false")
	case c == 'n':
		return literalEnd(b, i, "null")
	case c == '-' || c >= '0' && c <= '9':
		j := i + 1
		for j < len(b) && isNumberByte(b[j]) {
			j++
		}
		return j, nil
	}
	return 0, errMalformed
}

func isNumberByte(c byte) bool {
	return c >= '0' && c <= '9' || c == '.' || c == 'e' || c == 'E' || c == '+' || c == '-'
}

func literalEnd(b []byte, i int, lit string) (int, error) {
	if !bytes.HasPrefix(b[i:], []byte(lit)) {
		return 0, errMalformed
	}
	return i + len(lit), nil
}

// stringEnd returns the index just past the string whose opening quote is
// at b[i].
func stringEnd(b []byte, i int) (int, error) {
	j := i + 1
	for {
		q := bytes.IndexByte(b[j:], '"')
		if q < 0 {
			return 0, errMalformed
		}
		j += q
		// The quote is escaped if an odd number of backslashes precede it.
		n := 0
		for k := j - 1; k > i && b[k] == '\\'; k-- {
			n++
		}
		if n%2 == 0 {
			return j + 1, nil
		}
		j++
	}
}

// compositeEnd returns the index just past the object or array that starts
// at b[i].
func compositeEnd(b []byte, i int) (int, error) {
	depth := 0
	for j := i; j < len(b); j++ {
		switch b[j] {
		case '"':
			e, err := stringEnd(b, j)
			if err != nil {
				return 0, err
			}
			j = e - 1
		case '{', '[':
			depth++
		case '}', ']':
			depth--
			if depth == 0 {
				return j + 1, nil
			}
		}
	}
	return 0, errMalformed
}

// lookup returns the raw JSON of the value at path in the document doc, and
// reports whether it is there. A segment that is a decimal number also
// indexes an array.
func lookup(doc []byte, path []string) (raw []byte, found bool, err error) {
	i := skipSpace(doc, 0)
	for _, seg := range path {
		if i >= len(doc) {
			return nil, false, errMalformed
		}
		switch doc[i] {
		case '{':
			i, found, err = objectMember(doc, i, seg)
		case '[':
			i, found, err = arrayElement(doc, i, seg)
		default:
			return nil, false, nil
		}
		if err != nil || !found {
			return nil, false, err
		}
	}
	end, err := valueEnd(doc, i)
	if err != nil {
		return nil, false, err
	}
	return doc[i:end], true, nil
}

// objectMember finds key in the object that starts at b[i] and returns the
// index of its value.
func objectMember(b []byte, i int, key string) (int, bool, error) {
	i = skipSpace(b, i+1)
	if i < len(b) && b[i] == '}' {
		return 0, false, nil
	}
	for {
		if i >= len(b) || b[i] != '"' {
			return 0, false, errMalformed
		}
		ke, err := stringEnd(b, i)
		if err != nil {
			return 0, false, err
		}
		k := b[i:ke]
		i = skipSpace(b, ke)
		if i >= len(b) || b[i] != ':' {
			return 0, false, errMalformed
		}
		i = skipSpace(b, i+1)
		if rawStringEquals(k, key) {
			return i, true, nil
		}
		if i, err = valueEnd(b, i); err != nil {
			return 0, false, err
		}
		i = skipSpace(b, i)
		if i >= len(b) {
			return 0, false, errMalformed
		}
		switch b[i] {
		case ',':
			i = skipSpace(b, i+1)
		case '}':
			return 0, false, nil
		default:
			return 0, false, errMalformed
		}
	}
}

// arrayElement finds the element numbered by seg in the array that starts
// at b[i] and returns its index.
func arrayElement(b []byte, i int, seg string) (int, bool, error) {
	n, ok := arrayIndex(seg)
	if !ok {
		return 0, false, nil
	}
	found := false
	err := eachElement(b[i:], func(k int, start, _ int) bool {
		if k == n {
			i, found = i+start, true
			return false
		}
		return true
	})
	return i, found, err
}

// arrayIndex parses a path segment as an array index.
func arrayIndex(seg string) (int, bool) {
	if seg == "" || len(seg) > 9 || len(seg) > 1 && seg[0] == '0' {
		return 0, false
	}
	n := 0
	for i := 0; i < len(seg); i++ {
		c := seg[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// eachElement calls fn with the position and bounds of each element of the
// array raw, until fn returns false.
func eachElement(raw []byte, fn func(k, start, end int) bool) error {
	if len(raw) == 0 || raw[0] != '[' {
		return errMalformed
	}
	i := skipSpace(raw, 1)
	if i < len(raw) && raw[i] == ']' {
		return nil
	}
	for k := 0; ; k++ {
		end, err := valueEnd(raw, i)
		if err != nil {
			return err
		}
		if !fn(k, i, end) {
			return nil
		}
		i = skipSpace(raw, end)
		if i >= len(raw) {
			return errMalformed
		}
		switch raw[i] {
		case ',':
			i = skipSpace(raw, i+1)
		case ']':
			return nil
		default:
			return errMalformed
		}
	}
}

// rawStringEquals reports whether the quoted JSON string raw holds s.
func rawStringEquals(raw []byte, s string) bool {
	if len(raw) < 2 {
		return false
	}
	in := raw[1 : len(raw)-1]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in) == s
	}
	u, ok := unquote(raw)
	return ok && u == s
}

// unquote decodes the quoted JSON string raw, as encoding/json does: a lone
// surrogate becomes U+FFFD.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' || raw[len(raw)-1] != '"' {
		return "", false
	}
	s := raw[1 : len(raw)-1]
	if bytes.IndexByte(s, '\\') < 0 {
		return string(s), true
	}
	buf := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			buf = append(buf, c)
			i++
			continue
		}
		if i+1 >= len(s) {
			return "", false
		}
		switch s[i+1] {
		case '"', '\\', '/':
			buf = append(buf, s[i+1])
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			r, ok := hex4(s[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(-1), false
				if i+1 < len(s) && s[i] == '\\' && s[i+1] == 'u' {
					r2, ok = hex4(s[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); ok && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			buf = utf8.AppendRune(buf, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	return string(buf), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			return 0, false
		}
		r = r<<4 | rune(c)
	}
	return r, true
}

// number is a JSON number: an int64 when it is an integer that fits,
// otherwise a float64.
type number struct {
	i       int64
	f       float64
	isFloat bool
}

// parseNumber parses the raw JSON number b.
func parseNumber(b []byte) (number, bool) {
	j := 0
	if len(b) > 0 && b[0] == '-' {
		j = 1
	}
	if j == len(b) {
		return number{}, false
	}
	digits := true
	for _, c := range b[j:] {
		if c < '0' || c > '9' {
			digits = false
			break
		}
	}
	if digits && len(b)-j <= 18 {
		var n int64
		for _, c := range b[j:] {
			n = n*10 + int64(c-'0')
		}
		if j == 1 {
			n = -n
		}
		return number{i: n}, true
	}
	if digits {
		if n, err := strconv.ParseInt(string(b), 10, 64); err == nil {
			return number{i: n}, true
		}
	}
	f, err := strconv.ParseFloat(string(b), 64)
	if err != nil {
		return number{}, false
	}
	return number{f: f, isFloat: true}, true
}

func (n number) value() any {
	if n.isFloat {
		return n.f
	}
	return n.i
}

// decode turns the raw JSON value b into Go values: map[string]any, []any,
// string, int64 (integers that fit), float64, bool and nil.
func decode(b []byte) (any, error) {
	d := decoder{b: b}
	v, err := d.value()
	if err != nil {
		return nil, err
	}
	if skipSpace(b, d.i) != len(b) {
		return nil, errMalformed
	}
	return v, nil
}

// DecodeDocument decodes a JSON object into a document the way the store reads its
// own: integers that fit as int64, other numbers as float64 (as goja's Export does).
func DecodeDocument(b []byte) (map[string]any, error) { return decodeDoc(b) }

// decodeDoc decodes a stored document.
func decodeDoc(b []byte) (map[string]any, error) {
	v, err := decode(b)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errMalformed
	}
	return m, nil
}

type decoder struct {
	b     []byte
	i     int
	depth int
}

func (d *decoder) value() (any, error) {
	d.i = skipSpace(d.b, d.i)
	if d.i >= len(d.b) {
		return nil, errMalformed
	}
	switch c := d.b[d.i]; c {
	case '{':
		return d.object()
	case '[':
		return d.array()
	case '"':
		end, err := stringEnd(d.b, d.i)
		if err != nil {
			return nil, err
		}
		s, ok := unquote(d.b[d.i:end])
		if !ok {
			return nil, errMalformed
		}
		d.i = end
		return s, nil
	case 't', 'f', 'n':
		end, err := valueEnd(d.b, d.i)
		if err != nil {
			return nil, err
		}
		d.i = end
		switch c {
		case 't':
			return true, nil
		case 'f':
			return false, nil
		}
		return nil, nil
	default:
		end, err := valueEnd(d.b, d.i)
		if err != nil {
			return nil, err
		}
		n, ok := parseNumber(d.b[d.i:end])
		if !ok {
			return nil, errMalformed
		}
		d.i = end
		return n.value(), nil
	}
}

func (d *decoder) enter() error {
	d.depth++
	if d.depth > maxDepth {
		return errMalformed
	}
	return nil
}

func (d *decoder) object() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	m := make(map[string]any)
	d.i = skipSpace(d.b, d.i+1)
	if d.i < len(d.b) && d.b[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		if d.i >= len(d.b) || d.b[d.i] != '"' {
			return nil, errMalformed
		}
		end, err := stringEnd(d.b, d.i)
		if err != nil {
			return nil, err
		}
		k, ok := unquote(d.b[d.i:end])
		if !ok {
			return nil, errMalformed
		}
		d.i = skipSpace(d.b, end)
		if d.i >= len(d.b) || d.b[d.i] != ':' {
			return nil, errMalformed
		}
		d.i++
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		m[k] = v
		d.i = skipSpace(d.b, d.i)
		if d.i >= len(d.b) {
			return nil, errMalformed
		}
		switch d.b[d.i] {
		case ',':
			d.i = skipSpace(d.b, d.i+1)
		case '}':
			d.i++
			return m, nil
		default:
			return nil, errMalformed
		}
	}
}

func (d *decoder) array() (any, error) {
	if err := d.enter(); err != nil {
		return nil, err
	}
	defer func() { d.depth-- }()
	a := []any{}
	d.i = skipSpace(d.b, d.i+1)
	if d.i < len(d.b) && d.b[d.i] == ']' {
		d.i++
		return a, nil
	}
	for {
		v, err := d.value()
		if err != nil {
			return nil, err
		}
		a = append(a, v)
		d.i = skipSpace(d.b, d.i)
		if d.i >= len(d.b) {
			return nil, errMalformed
		}
		switch d.b[d.i] {
		case ',':
			d.i++
		case ']':
			d.i++
			return a, nil
		default:
			return nil, errMalformed
		}
	}
}
