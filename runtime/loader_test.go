package runtime

import (
	"bytes"
	"encoding/json"
	"errors"
	"testing"

	"github.com/blimp/blimp/endpoints"
)

// FuzzCheckJSON: a .json module is accepted exactly when it is JSON, and a refusal
// points at a line and column inside the file.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a": 1}`, `{"a":`, "[1,\n2,\n}", "\n\n  x", `"\u00e9"`, "{\"k\": \"é\"\n,}", ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, src []byte) {
		err := checkJSON("c.json", src)
		if (err == nil) != json.Valid(src) {
			t.Fatalf("checkJSON(%q) = %v, json.Valid = %v", src, err, json.Valid(src))
		}
		if err == nil {
			return
		}
		var fe *endpoints.Error
		if !errors.As(err, &fe) || fe.File != "c.json" {
			t.Fatalf("got %v, want an *endpoints.Error naming c.json", err)
		}
		if fe.Line == 0 && fe.Col == 0 {
			return // no position (not a syntax error)
		}
		lines := bytes.Count(src, []byte("\n")) + 1
		if fe.Line < 1 || fe.Line > lines || fe.Col < 1 {
			t.Fatalf("checkJSON(%q): position %d:%d is outside the file's %d lines", src, fe.Line, fe.Col, lines)
		}
	})
}
