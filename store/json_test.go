package store

import (
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

var jsonSeeds = []string{
	`{}`,
	`[]`,
	`null`,
	`{"a":1,"b":-2.5e3,"c":"x\"y\\z","d":[true,false,null,{"e":[]}]}`,
	` { "a" : [ 1 , 2 ] , "b" : { } } `,
	`"\u00e9\ud83d\ude00\u2028\n\t\/"`,
	`"\ud800 lone"`,
	`"\ud800\u0041"`,
	`"\udc00\ud800"`,
	`9223372036854775807`,
	`9223372036854775808`,
	`-9223372036854775808`,
	`123456789012345678901234567890`,
	`1e400`,
	`0.1`,
	`-0`,
	`{"k\"ey":1,"k\\":2}`,
	`[1,`,
	`{"a":}`,
	`"abc`,
	`tru`,
	`{"a" 1}`,
	`[1 2]`,
}

// FuzzDecode checks decode against encoding/json: it must never panic, and
// must agree on every input encoding/json accepts.
func FuzzDecode(f *testing.F) {
	for _, s := range jsonSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := decode(b)
		var want any
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.UseNumber() // exact, unlike float64
		if dec.Decode(&want) != nil || dec.InputOffset() != int64(len(bytes.TrimRight(b, " \t\r\n"))) || !utf8.Valid(b) {
			return // decode may accept or refuse what is not JSON
		}
		wantN, nerr := normalize(want)
		if nerr != nil {
			return // a number encoding/json rounded to ±Inf, which Save cannot store
		}
		if err != nil {
			t.Fatalf("decode(%q): %v; encoding/json decoded %v", b, err, want)
		}
		if !equal(got, wantN) {
			t.Fatalf("decode(%q): got %#v, want %#v", b, got, wantN)
		}
		// In the form Save writes, lookup finds every value decode found.
		enc, err := json.Marshal(got)
		if err != nil {
			t.Fatalf("Marshal(%#v): %v", got, err)
		}
		var walk func(path []string, v any)
		walk = func(path []string, v any) {
			raw, found, err := lookup(enc, path)
			if err != nil || !found {
				t.Fatalf("lookup(%s, %q): found %v, %v", enc, path, found, err)
			}
			if dv, err := decode(raw); err != nil || !equal(dv, v) {
				t.Fatalf("lookup(%s, %q): got %s (%v), want %#v", enc, path, raw, err, v)
			}
			switch v := v.(type) {
			case map[string]any:
				for k, e := range v {
					if !strings.Contains(k, ".") {
						walk(append(path[:len(path):len(path)], k), e)
					}
				}
			case []any:
				for i, e := range v {
					walk(append(path[:len(path):len(path)], strconv.Itoa(i)), e)
				}
			}
		}
		if _, ok := got.(map[string]any); ok {
			walk(nil, got)
		}
	})
}

func TestDecodeNumbers(t *testing.T) {
	tests := []struct {
		in   string
		want any
	}{
		{"0", int64(0)},
		{"-12", int64(-12)},
		{"9223372036854775807", int64(9223372036854775807)},
		{"-9223372036854775808", int64(-9223372036854775808)},
		{"9223372036854775808", 9223372036854775808.0},
		{"1.5", 1.5},
		{"1e3", 1000.0},
		{"-2.5E-1", -0.25},
	}
	for _, tt := range tests {
		got, err := decode([]byte(tt.in))
		if err != nil || got != tt.want {
			t.Errorf("decode(%s): got %#v, %v, want %#v", tt.in, got, err, tt.want)
		}
	}
}

func TestLookup(t *testing.T) {
	doc := []byte(`{"created":1,"id":"x","s":"a\"}]","data":{"score":57,"tags":["a",{"b":[1,2]}],"e\u0301":true},"last":null}`)
	tests := []struct {
		path  string
		want  string
		found bool
	}{
		{"created", "1", true},
		{"id", `"x"`, true},
		{"data.score", "57", true},
		{"data.tags", `["a",{"b":[1,2]}]`, true},
		{"data.tags.1.b.1", "2", true},
		{"data.tags.2", "", false},
		{"data.tags.01", "", false},
		{"data.tags.x", "", false},
		{"data.e\u0301", "true", true},
		{"last", "null", true},
		{"data.score.x", "", false},
		{"missing", "", false},
		{"s", `"a\"}]"`, true},
	}
	for _, tt := range tests {
		raw, found, err := lookup(doc, strings.Split(tt.path, "."))
		if err != nil || found != tt.found || string(raw) != tt.want {
			t.Errorf("lookup(%q): got %s, %v, %v, want %s, %v", tt.path, raw, found, err, tt.want, tt.found)
		}
	}
	for _, bad := range []string{`{"a":`, `{"a"`, `{"b":1 "a":2}`, `{"b":[1,"a":2}`, `{"b":"x`} {
		if _, _, err := lookup([]byte(bad), []string{"a"}); err == nil {
			t.Errorf("lookup in %s: got no error, want errMalformed", bad)
		}
	}
}
