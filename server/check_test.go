package server

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/endpoints"
	"github.com/blimp/blimp/internal/wstest"
)

// TestCheckSplitsDescriptorProblems checks that each problem of a descriptor with
// several is an error of its own naming the file, with the position of the field.
func TestCheckSplitsDescriptorProblems(t *testing.T) {
	root := badRoot(t, map[string]string{
		"httpbad/a.http":      `{"path": "api/x", "handler": "httpbad/a", "methods": ["GETT"]}`,
		"httpbad/b.websocket": `{"handler":5,"endpoint":["x"]}`,
		"httpbad/c.http":      `{"path":"/z/","methods":[]}`,
	})
	a := filepath.Join(root, "httpbad", "a.http")
	b := filepath.Join(root, "httpbad", "b.websocket")
	c := filepath.Join(root, "httpbad", "c.http")
	want := []string{
		a + `:1:10: path "api/x" must be absolute`,
		a + `:1:54: "methods": "GETT" is not one of`,
		b + `:1:25: "endpoint" must be a string`,
		b + `:1:12: "handler" must be a string`,
		c + `: missing "handler"`,
		c + `:1:9: path "/z/" must be a clean URL path`,
		c + `:1:25: "methods" must be a non-empty array`,
	}
	res := Check(checkConfig(), root)
	if len(res.Errors) != len(want) {
		t.Errorf("got %d errors %q, want %d", len(res.Errors), res.Errors, len(want))
	}
	for _, w := range want {
		if !anyContains(res.Errors, w) {
			t.Errorf("got errors %q, want one containing %q", res.Errors, w)
		}
	}
	for _, err := range res.Errors {
		var fe *endpoints.Error
		if !errors.As(err, &fe) || strings.Contains(err.Error(), "\n") || !strings.HasPrefix(err.Error(), fe.File+":") {
			t.Errorf("got %q, want one line starting with its file", err)
		}
	}
}

func TestUnjoin(t *testing.T) {
	inner := &endpoints.Error{File: "b.js", Line: 2, Col: 3, Err: errors.New("two")}
	joined := &endpoints.Error{File: "a.websocket", Err: errors.Join(errors.New("one"), inner)}
	got := unjoin(errors.Join(joined, errors.New("three")))
	want := []string{"a.websocket: one", "b.js:2:3: two", "three"}
	if len(got) != len(want) {
		t.Fatalf("got %q, want %q", got, want)
	}
	for i := range want {
		if got[i].Error() != want[i] {
			t.Errorf("part %d: got %q, want %q", i, got[i], want[i])
		}
	}
}

// TestCheckNoProjects checks that a root without project folders is an error, and
// that a project folder given in place of its root is recognised as one.
func TestCheckNoProjects(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"empty/.git/HEAD":           "",
		"my-project/chat.websocket": `{"handler": "my-project/chat", "endpoint": "chat"}`,
		"my-project/chat.js":        "export function onMessage(m) { return m +; }\n",
	})
	for _, tc := range []struct {
		name, dir string
		want      string
	}{
		{"empty root", filepath.Join(root, "empty"), "no projects under " + filepath.Join(root, "empty") + ": a projects root holds one folder per project"},
		{"a project folder", filepath.Join(root, "my-project"), "so it looks like a project folder: give its parent, " + root + ", as the projects root instead"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res := Check(checkConfig(), tc.dir)
			if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), tc.want) {
				t.Errorf("got errors %q, want one containing %q", res.Errors, tc.want)
			}
			if res.Projects != 0 || len(res.Warnings) != 0 {
				t.Errorf("got %d projects and warnings %q, want none", res.Projects, res.Warnings)
			}
		})
	}
}

// TestCheckWarnsAboutStrayDescriptors checks that a descriptor lying directly in the
// projects root, which no project serves, is a warning naming it.
func TestCheckWarnsAboutStrayDescriptors(t *testing.T) {
	root := badRoot(t, map[string]string{
		"stray.websocket": `{"handler": "app/echo", "endpoint": "stray"}`,
		"stray.http":      `{"path": "/stray", "handler": "app/echo"}`,
	})
	res := Check(checkConfig(), root)
	if len(res.Errors) != 0 || res.Projects != 1 || res.Endpoints != 1 {
		t.Errorf("got errors %q, %d projects, %d endpoints; want none, 1, 1", res.Errors, res.Projects, res.Endpoints)
	}
	for _, file := range []string{"stray.http", "stray.websocket"} {
		want := filepath.Join(root, file) + ": not served: a descriptor directly in the projects root belongs to no project"
		found := false
		for _, w := range res.Warnings {
			found = found || strings.HasPrefix(w, want)
		}
		if !found {
			t.Errorf("got warnings %q, want one starting with %q", res.Warnings, want)
		}
	}
}

// Top-level code that uses the store runs in check as it does in run.
func TestCheckTopLevelStore(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"t/t.websocket": `{"endpoint": "t", "handler": "t/h"}`,
		"t/h.js": `
import { store } from "sdk/db";
store.save("boot", { at: Date.now() });
export const onMessage = (m) => m;`,
	})
	res := Check(config.Default(), root)
	if len(res.Errors) != 0 || res.Projects != 1 {
		t.Fatalf("got %d projects, errors %v; want 1 and none", res.Projects, res.Errors)
	}
}
