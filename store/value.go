package store

import (
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// Values in queries and in decoded documents are normalized JSON values:
// nil, bool, string, int64, float64, []any and map[string]any.

// normalize converts a value given in a query to a normalized JSON value.
// It accepts what encoding/json (with or without UseNumber) and goja's
// Export produce, and Go's other integer and float types.
func normalize(v any) (any, error) {
	switch v := v.(type) {
	case nil, bool, string, int64:
		return v, nil
	case float64:
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("must be a finite number, got %v", v)
		}
		return v, nil
	case float32:
		return normalize(float64(v))
	case int:
		return int64(v), nil
	case int8:
		return int64(v), nil
	case int16:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case uint:
		return normalizeUint(uint64(v)), nil
	case uint8:
		return int64(v), nil
	case uint16:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case uint64:
		return normalizeUint(v), nil
	case json.Number:
		n, ok := parseNumber([]byte(v))
		if !ok || n.isFloat && (math.IsInf(n.f, 0) || math.IsNaN(n.f)) {
			return nil, fmt.Errorf("%q is not a valid number", string(v))
		}
		return n.value(), nil
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out[i] = n
		}
		return out, nil
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			n, err := normalize(e)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", k, err)
			}
			out[k] = n
		}
		return out, nil
	case time.Time:
		return nil, fmt.Errorf("dates are not supported; compare with a number of milliseconds since the epoch (date.getTime())")
	}
	return nil, fmt.Errorf("unsupported value of type %T; use null, a boolean, a number, a string, an array or an object", v)
}

func normalizeUint(u uint64) any {
	if u <= math.MaxInt64 {
		return int64(u)
	}
	return float64(u)
}

// typeName names the JSON type of a value, as a JavaScript author would.
func typeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "boolean"
	case string:
		return "string"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64, json.Number:
		return "number"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", v)
}

// asNumber reports whether v is a normalized number, and returns it.
func asNumber(v any) (number, bool) {
	switch v := v.(type) {
	case int64:
		return number{i: v}, true
	case float64:
		return number{f: v, isFloat: true}, true
	}
	return number{}, false
}

// compareNumbers compares two numbers exactly, also an int64 with a float64
// that cannot hold it.
func compareNumbers(a, b number) int {
	switch {
	case !a.isFloat && !b.isFloat:
		return cmp3(a.i, b.i)
	case a.isFloat && b.isFloat:
		return cmp3(a.f, b.f)
	case a.isFloat:
		return -compareIntFloat(b.i, a.f)
	default:
		return compareIntFloat(a.i, b.f)
	}
}

func cmp3[T int64 | float64 | string](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// compareIntFloat compares i with f without rounding i to a float64.
func compareIntFloat(i int64, f float64) int {
	switch {
	case f < math.MinInt64:
		return 1
	case f >= math.MaxInt64: // 2^63, which no int64 reaches
		return -1
	}
	t := math.Trunc(f)
	if c := cmp3(i, int64(t)); c != 0 {
		return c
	}
	switch {
	case f > t:
		return -1
	case f < t:
		return 1
	}
	return 0
}

// equal reports whether two normalized values are equal; numbers are equal
// when their values are, whatever their Go types.
func equal(a, b any) bool {
	switch a := a.(type) {
	case nil:
		return b == nil
	case bool:
		b, ok := b.(bool)
		return ok && a == b
	case string:
		b, ok := b.(string)
		return ok && a == b
	case int64, float64:
		x, _ := asNumber(a)
		y, ok := asNumber(b)
		return ok && compareNumbers(x, y) == 0
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !equal(a[i], b[i]) {
				return false
			}
		}
		return true
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			w, ok := b[k]
			if !ok || !equal(v, w) {
				return false
			}
		}
		return true
	}
	return false
}

// rank orders the JSON types for sorting: null, booleans, numbers,
// strings, arrays, objects.
func rank(v any) int {
	switch v.(type) {
	case nil:
		return 0
	case bool:
		return 1
	case int64, float64:
		return 2
	case string:
		return 3
	case []any:
		return 4
	}
	return 5
}

// compareValues orders normalized values for sorting: by type (see rank),
// then false before true, numbers by value, strings by bytes. Arrays and
// objects compare equal to others of their type.
func compareValues(a, b any) int {
	if c := cmp3(int64(rank(a)), int64(rank(b))); c != 0 {
		return c
	}
	switch a := a.(type) {
	case bool:
		switch b := b.(bool); {
		case a == b:
			return 0
		case b:
			return -1
		}
		return 1
	case int64, float64:
		x, _ := asNumber(a)
		y, _ := asNumber(b)
		return compareNumbers(x, y)
	case string:
		return strings.Compare(a, b.(string))
	}
	return 0
}

// groupKey returns a string that is the same for two raw JSON values exactly
// when they are equal.
func groupKey(raw []byte) (string, error) {
	switch c := raw[0]; {
	case c == '"':
		s, ok := unquote(raw)
		if !ok {
			return "", errMalformed
		}
		return "s" + s, nil
	case c == '-' || c >= '0' && c <= '9':
		n, ok := parseNumber(raw)
		if !ok {
			return "", errMalformed
		}
		if n.isFloat && n.f == math.Trunc(n.f) && n.f >= math.MinInt64 && n.f < math.MaxInt64 {
			n = number{i: int64(n.f)}
		}
		if n.isFloat {
			return "n" + strconv.FormatFloat(n.f, 'g', -1, 64), nil
		}
		return "n" + strconv.FormatInt(n.i, 10), nil
	case c == '[' || c == '{':
		// Decoding makes numbers canonical; Marshal sorts object keys.
		v, err := decode(raw)
		if err != nil {
			return "", err
		}
		b, err := json.Marshal(v)
		if err != nil {
			return "", err
		}
		return "c" + string(b), nil
	}
	return string(raw), nil // true, false, null
}
