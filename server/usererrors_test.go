package server

import (
	"fmt"
	"strconv"
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

// A project asks for its own number of workers in blimp.json: its connections are
// pinned to them by slot (module state is per worker), other projects keep the
// server's default, and a bad blimp.json keeps the project from loading with the
// file's position.
func TestProjectWorkersSetting(t *testing.T) {
	// Each worker loads the module on its own: its instance id tells the workers apart.
	handler := `const instance = crypto.randomUUID(); export const onMessage = (m, conn) => conn.id + " " + instance;`
	s := startFiles(t, map[string]string{
		"many/blimp.json":    `{"workers": 2}`,
		"many/m.websocket":   `{"endpoint": "m", "handler": "many/c"}`,
		"many/c.js":          handler,
		"one/o.websocket":    `{"endpoint": "o", "handler": "one/c"}`,
		"one/c.js":           handler,
		"broken/blimp.json":  `{"workers": 100}`,
		"broken/b.websocket": `{"endpoint": "b", "handler": "broken/c"}`,
		"broken/c.js":        handler,
	})
	// instances dials endpoint until both slot parities (the worker of a connection
	// is its slot, its hex id, modulo 2) are seen, and maps each parity to the module
	// instances that answered.
	instances := func(endpoint string) map[uint64]map[string]bool {
		seen := map[uint64]map[string]bool{}
		for i := 0; i < 64 && len(seen) < 2; i++ {
			id, instance, _ := strings.Cut(s.dial(t, endpoint).Ask("x"), " ")
			slot, err := strconv.ParseUint(id, 16, 64)
			if err != nil {
				t.Fatalf("connection id %q is not the hex slot", id)
			}
			if seen[slot%2] == nil {
				seen[slot%2] = map[string]bool{}
			}
			seen[slot%2][instance] = true
		}
		if len(seen) < 2 {
			t.Fatalf("64 connections to %s all had one slot parity", endpoint)
		}
		return seen
	}
	many := instances("m")
	if len(many[0]) != 1 || len(many[1]) != 1 || fmt.Sprint(many[0]) == fmt.Sprint(many[1]) {
		t.Fatalf("project with 2 workers: got instances by worker %v, want one per worker, two in all", many)
	}
	one := instances("o")
	if len(one[0]) != 1 || fmt.Sprint(one[0]) != fmt.Sprint(one[1]) {
		t.Fatalf("project with the default worker: got instances %v, want one for all", one)
	}
	if st := statusOf(s.Server, "broken"); !strings.Contains(st.Error, "blimp.json:1:13:") || !strings.Contains(st.Error, `"workers" must be a whole number from 1 to 64`) {
		t.Fatalf("broken: got status error %q, want the blimp.json problem with its position", st.Error)
	}
}
