package server

import (
	"strings"
	"testing"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

// Exports that look like event functions but are not called are warned about, by
// check and in the project's status, with the file they are in.
func TestHandlerExportWarnings(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"w/lower.websocket":   `{"endpoint": "lower", "handler": "w/lower"}`,
		"w/lower.js":          `export function onmessage(m) { return m; }`,
		"w/default.websocket": `{"endpoint": "def", "handler": "w/def"}`,
		"w/def.js":            `export default { onMessage(m) { return m; } };`,
		"w/req.websocket":     `{"endpoint": "req", "handler": "w/req"}`,
		"w/req.js":            `export const onRequest = () => "hi";`,
		"w/fine.websocket":    `{"endpoint": "fine", "handler": "w/fine"}`,
		"w/fine.js":           `export function onMessage(m) { return m; } export const helper = 1;`,
		"w/script.websocket":  `{"endpoint": "script", "handler": "w/script"}`,
		"w/script.js":         `console.log("Dirigible's script style");`,
	})
	want := []string{
		`w/lower.js: export "onmessage" is not an event function and is not called: did you mean onMessage?`,
		`w/def.js: onMessage is a property of the default export and is not called: export it by name (export function onMessage)`,
		`req.websocket: handler w/req exports only onRequest, which serves .http descriptors: endpoint "req" gets no events`,
	}
	check := func(where string, got []string) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: got %d warnings %q, want %d", where, len(got), got, len(want))
		}
		for _, w := range want {
			found := false
			for _, g := range got {
				found = found || strings.Contains(g, w)
			}
			if !found {
				t.Errorf("%s: no warning containing %q in %q", where, w, got)
			}
		}
	}
	res := Check(config.Default(), root)
	if len(res.Errors) != 0 {
		t.Fatalf("check: got errors %v, want none (warnings only)", res.Errors)
	}
	check("check", res.Warnings)
	s := start(t, root, nil)
	check("status", statusOf(s.Server, "w").Warnings)
}

func TestNewRefusesMissingProjectsRoot(t *testing.T) {
	dir := t.TempDir()
	file := dir + "/file"
	wstest.WriteFiles(t, dir, map[string]string{"file": "x"})
	for root, want := range map[string]string{
		dir + "/missing": "does not exist: create it, or point --projects",
		file:             "is a file, not a folder",
	} {
		cfg := config.Default()
		cfg.Projects.Root = root
		cfg.Data.Path = t.TempDir() + "/blimp.db"
		s, err := New(cfg, nil)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), root) {
			t.Errorf("New with projects root %s: got %v, want an error naming it and containing %q", root, err, want)
		}
		if s != nil {
			t.Errorf("New with projects root %s returned a server", root)
		}
	}
}

func TestRunWarnsAboutStrayDescriptors(t *testing.T) {
	s := startFiles(t, map[string]string{
		"stray.websocket": `{"endpoint": "stray", "handler": "app/h"}`,
		"app/h.js":        `export const onMessage = (m) => m;`,
		"app/h.websocket": `{"endpoint": "h", "handler": "app/h"}`,
	})
	s.log.WaitForLine(t, "stray.websocket: not served: a descriptor directly in the projects root")
}
