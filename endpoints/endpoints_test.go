package endpoints

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/blimp/blimp/internal/wstest"
)

func TestParseDescriptor(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		wantErr    string
		want       Descriptor
	}{
		{name: "dirigible", json: `{"handler": "my-project/ws-handler", "endpoint": "my-endpoint", "description": "My Websocket"}`,
			want: Descriptor{Endpoint: "my-endpoint", Handler: "my-project/ws-handler", Description: "My Websocket"}},
		{name: "extra fields kept as unknown", json: `{"handler": "p/h", "endpoint": "e", "createdBy": "x", "createdAt": 1}`,
			want: Descriptor{Endpoint: "e", Handler: "p/h", Unknown: []string{"createdAt", "createdBy"}}},
		{name: "syntax error position", json: "{\n  \"handler\": \"p/h\",\n  \"endpoint\" \"e\"\n}", wantErr: "d.websocket:3:14: invalid JSON"},
		{name: "not an object", json: `["p/h"]`, wantErr: "a websocket descriptor is a JSON object"},
		{name: "null", json: `null`, wantErr: "a websocket descriptor is a JSON object"},
		{name: "trailing data", json: `{"handler": "p/h", "endpoint": "e"} {}`, wantErr: "unexpected data after"},
		{name: "missing handler", json: `{"endpoint": "e"}`, wantErr: `missing "handler"`},
		{name: "missing endpoint", json: `{"handler": "p/h"}`, wantErr: `missing "endpoint"`},
		{name: "both missing", json: `{}`, wantErr: `d.websocket: missing "endpoint": add the endpoint name, like "endpoint": "chat"` + "\n" + `d.websocket: missing "handler": add the handler module`},
		{name: "endpoint with slash", json: `{"handler": "p/h", "endpoint": "a/b"}`, wantErr: `endpoint "a/b" must be one path segment`},
		{name: "endpoint dot", json: `{"handler": "p/h", "endpoint": "."}`, wantErr: `d.websocket:1:32: endpoint "." cannot be reached`},
		{name: "endpoint dot dot", json: `{"handler": "p/h", "endpoint": ".."}`, wantErr: `endpoint ".." cannot be reached: clients remove`},
		{name: "endpoint of three dots is a plain segment", json: `{"handler": "p/h", "endpoint": "..."}`,
			want: Descriptor{Endpoint: "...", Handler: "p/h"}},
		{name: "endpoint with dots around", json: `{"handler": "p/h", "endpoint": ".chat."}`,
			want: Descriptor{Endpoint: ".chat.", Handler: "p/h"}},
		{name: "byte-order mark", json: "\ufeff" + `{"handler": "p/h", "endpoint": "e"}`,
			want: Descriptor{Endpoint: "e", Handler: "p/h"}},
		{name: "byte-order mark keeps positions", json: "\ufeff{\n  \"handler\": \"p/h\",\n  \"endpoint\" \"e\"\n}", wantErr: "d.websocket:3:14: invalid JSON"},
		{name: "byte-order mark on line 1", json: "\ufeff" + `{"handler" "p/h"}`, wantErr: "d.websocket:1:12: invalid JSON"},
		{name: "UTF-16", json: "\xff\xfe{\x00}\x00", wantErr: "d.websocket: the file is UTF-16 text (it starts with a UTF-16 byte-order mark); save it as UTF-8"},
		{name: "empty endpoint", json: `{"handler": "p/h", "endpoint": ""}`, wantErr: `"endpoint" must not be empty`},
		{name: "endpoint not a string", json: `{"handler": "p/h", "endpoint": 3}`, wantErr: `"endpoint" must be a string, got 3`},
		{name: "absolute handler", json: `{"handler": "/etc/h", "endpoint": "e"}`, wantErr: "must be relative to the projects root"},
		{name: "dotdot handler", json: `{"handler": "p/../q/h", "endpoint": "e"}`, wantErr: "no empty, '.' or '..' segments"},
		{name: "handler without project", json: `{"handler": "h", "endpoint": "e"}`, wantErr: "must start with its project folder"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseDescriptor("d.websocket", []byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				var de *Error
				if !errors.As(err, &de) || de.File != "d.websocket" {
					t.Fatalf("got %T, want *Error naming the file", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if d.Endpoint != tc.want.Endpoint || d.Handler != tc.want.Handler || d.Description != tc.want.Description || strings.Join(d.Unknown, ",") != strings.Join(tc.want.Unknown, ",") {
				t.Fatalf("got %+v, want %+v", d, tc.want)
			}
		})
	}
}

// TestDescriptorProblemsNameTheFile checks that a descriptor with several problems
// yields one *Error per problem, each naming the file and, when the problem is about
// a field that is there, the line:column of its value.
func TestDescriptorProblemsNameTheFile(t *testing.T) {
	for _, tc := range []struct {
		name, file, json string
		want             []string // the problems, in order, as printed
	}{
		{name: "path and methods", file: "a.http", json: `{"path": "api/x", "handler": "p/h", "methods": ["GETT"]}`,
			want: []string{`a.http:1:10: path "api/x" must be absolute`, `a.http:1:48: "methods": "GETT" is not one of GET,`}},
		{name: "fields of the wrong type", file: "d.websocket", json: `{"handler":5,"endpoint":["x"]}`,
			want: []string{`d.websocket:1:25: "endpoint" must be a string, got ["x"]`, `d.websocket:1:12: "handler" must be a string, got 5`}},
		{name: "missing handler, bad path, empty methods", file: "z.http", json: "{\"path\":\"/z/\",\n \"methods\": []}",
			want: []string{`z.http: missing "handler": add the handler module`, `z.http:1:9: path "/z/" must be a clean URL path`, `z.http:2:13: "methods" must be a non-empty array`}},
		{name: "after a byte-order mark", file: "b.websocket", json: "\ufeff" + `{"handler": "/h", "endpoint": ".."}`,
			want: []string{`b.websocket:1:31: endpoint ".." cannot be reached`, `b.websocket:1:13: handler "/h" must be relative`}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Parse(tc.file, []byte(tc.json))
			if err == nil {
				t.Fatal("got no error")
			}
			j, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("got %T %q, want the %d problems joined", err, err, len(tc.want))
			}
			parts := j.Unwrap()
			if len(parts) != len(tc.want) {
				t.Fatalf("got %d problems %q, want %d", len(parts), parts, len(tc.want))
			}
			for i, part := range parts {
				var de *Error
				if !errors.As(part, &de) || de.File != tc.file {
					t.Errorf("problem %d: got %T %q, want an *Error naming %s", i, part, part, tc.file)
				}
				if got := part.Error(); !strings.HasPrefix(got, tc.want[i]) || strings.Contains(got, "\n") {
					t.Errorf("problem %d: got %q, want one line starting with %q", i, got, tc.want[i])
				}
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				if !strings.HasPrefix(line, tc.file+":") {
					t.Errorf("got line %q, want it to start with %q", line, tc.file+":")
				}
			}
		})
	}
}

// TestScanProjectReadsByteOrderMarks reads descriptors saved with a UTF-8 byte-order
// mark, as some Windows editors write them, from disk.
func TestScanProjectReadsByteOrderMarks(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"p/chat.websocket": "\ufeff" + `{"handler": "p/chat", "endpoint": "chat"}`,
		"p/info.http":      "\ufeff{\r\n  \"path\": \"/api/info\",\r\n  \"handler\": \"p/chat\"\r\n}\r\n",
		"p/chat.js":        "export function onMessage(m) { return m; }\n",
		"q/bad.websocket":  "\ufeff{\"handler\": \"q/h\" \"endpoint\": \"x\"}",
	})
	p, err := ScanProject(root, "p")
	if err != nil {
		t.Fatalf("got error %v", err)
	}
	if len(p.Descriptors) != 2 || p.Descriptors[0].Endpoint != "chat" || p.Descriptors[1].Path != "/api/info" {
		t.Fatalf("got descriptors %+v, want chat and /api/info", p.Descriptors)
	}
	want := filepath.Join(root, "q", "bad.websocket") + ":1:19: invalid JSON"
	if _, err := ScanProject(root, "q"); err == nil || !strings.HasPrefix(err.Error(), want) {
		t.Fatalf("got %v, want an error starting with %q", err, want)
	}
}

// TestRootWarnings checks that descriptor files lying directly in the projects root,
// which no project serves, are reported with what to do about them.
func TestRootWarnings(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"stray.websocket":     `{"handler": "p/h", "endpoint": "stray"}`,
		"stray.http":          `{"path": "/x", "handler": "p/h"}`,
		"README.md":           "not a descriptor",
		"p/ok.websocket":      `{"handler": "p/h", "endpoint": "ok"}`,
		".hidden/x.websocket": `{}`,
	})
	got := RootWarnings(root)
	want := []string{filepath.Join(root, "stray.http"), filepath.Join(root, "stray.websocket")}
	if len(got) != len(want) {
		t.Fatalf("got warnings %q, want one for each of %q", got, want)
	}
	for i, w := range got {
		if !strings.HasPrefix(w, want[i]+": not served: a descriptor directly in the projects root belongs to no project") ||
			!strings.Contains(w, "move it into a project folder, like "+filepath.Join(root, "my-project", filepath.Base(want[i]))) ||
			!strings.Contains(w, "give its parent, "+filepath.Dir(root)+", as the projects root") {
			t.Errorf("got warning %q, want it to name %s and say where to move it", w, want[i])
		}
	}
	if got := RootWarnings(filepath.Join(root, "p")); len(got) != 1 {
		t.Errorf("got %q for a project folder, want its descriptor reported", got)
	}
	if got := RootWarnings(filepath.Join(root, "nope")); got != nil {
		t.Errorf("got %q for a missing root, want none", got)
	}
}

func TestNoProjectsError(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"empty/node_modules/x/x.websocket": `{}`,
		"my-project/chat.websocket":        `{"handler": "my-project/chat", "endpoint": "chat"}`,
		"my-project/info.http":             `{"path": "/info", "handler": "my-project/chat"}`,
		"my-project/.git/config":           "",
	})
	for _, tc := range []struct {
		name, dir string
		want      []string
	}{
		{name: "only skipped folders", dir: filepath.Join(root, "empty"),
			want: []string{"no projects under " + filepath.Join(root, "empty") + ": a projects root holds one folder per project", "create one, like " + filepath.Join(root, "empty", "my-project")}},
		{name: "a project folder", dir: filepath.Join(root, "my-project"),
			want: []string{"no projects under " + filepath.Join(root, "my-project") + ": a projects root holds one folder per project",
				"holds descriptor files itself (chat.websocket, info.http), so it looks like a project folder: give its parent, " + root + ", as the projects root instead"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			names, err := ProjectNames(tc.dir)
			if err != nil || len(names) != 0 {
				t.Fatalf("got projects %q, %v; want none", names, err)
			}
			got := NoProjectsError(tc.dir).Error()
			for _, w := range tc.want {
				if !strings.Contains(got, w) {
					t.Errorf("got %q, want it to contain %q", got, w)
				}
			}
		})
	}
}

func TestParent(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ dir, want string }{
		{"projects/my-project", "projects"},
		{"projects/my-project/", "projects"},
		{"my-project", "."},
		{".", filepath.Dir(wd)},
		{"a/..", filepath.Dir(wd)},
		{"/", "/"},
	} {
		if got := parent(filepath.FromSlash(tc.dir)); got != filepath.FromSlash(tc.want) {
			t.Errorf("parent(%q): got %q, want %q", tc.dir, got, tc.want)
		}
	}
}

func TestScanProject(t *testing.T) {
	p, err := ScanProject("testdata", "chat")
	if err != nil {
		t.Fatalf("got error %v", err)
	}
	if len(p.Descriptors) != 1 || p.Descriptors[0].Endpoint != "chat" {
		t.Fatalf("got %d descriptors, want only chat (dot-folders and node_modules skipped)", len(p.Descriptors))
	}
	if want := filepath.Join("testdata", "chat", "handler.js"); p.Descriptors[0].HandlerFile != want {
		t.Fatalf("got handler file %q, want %q", p.Descriptors[0].HandlerFile, want)
	}
	if len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], `unknown field "createdBy"`) {
		t.Fatalf("got warnings %q, want one for createdBy", p.Warnings)
	}
	if _, err := ScanProject("testdata", "broken"); err == nil || !strings.Contains(err.Error(), "bad.websocket:3:") {
		t.Fatalf("got %v, want a positioned error for bad.websocket", err)
	}
}

func TestResolveHandler(t *testing.T) {
	root := t.TempDir()
	const handler = "export const onMessage = (m) => m;"
	wstest.WriteFiles(t, root, map[string]string{
		"other/secret.js": handler,
		"p/ts.ts":         handler,
		"p/lib/index.js":  handler,
		"p/both.js":       handler,
		"p/both.ts":       handler,
		"p/empty.js":      "",
	})
	if err := os.Symlink(filepath.Join(root, "other", "secret.js"), filepath.Join(root, "p", "link.js")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ handler, want, wantErr string }{
		{handler: "p/ts", want: "p/ts.ts"},
		{handler: "p/lib", want: "p/lib/index.js"},
		{handler: "p/both", want: "p/both.js"},
		{handler: "p/both.ts", want: "p/both.ts"},
		{handler: "p/missing", wantErr: "no such module"},
		{handler: "other/secret", wantErr: `outside project "p"`},
		{handler: "p/link", wantErr: "outside the project folder"},
		{handler: "p/empty", wantErr: "the handler of x.websocket is empty"},
	} {
		t.Run(tc.handler, func(t *testing.T) {
			d := &Descriptor{File: "x.websocket", Handler: tc.handler}
			err := resolveHandler(root, "p", d)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || d.HandlerFile != filepath.Join(root, tc.want) {
				t.Fatalf("got %q, %v; want %q", d.HandlerFile, err, tc.want)
			}
		})
	}
}

func TestTableRejectsDuplicates(t *testing.T) {
	a := &Project{Name: "a", Descriptors: []*Descriptor{{Kind: KindWebSocket, Endpoint: "chat", Project: "a", File: "a/chat.websocket"}}}
	b := &Project{Name: "b", Descriptors: []*Descriptor{{Kind: KindWebSocket, Endpoint: "chat", Project: "b", File: "b/chat.websocket"}}}
	t1, err := (&Table{}).With(a)
	if err != nil {
		t.Fatal(err)
	}
	_, err = t1.With(b)
	if err == nil || !strings.Contains(err.Error(), "b/chat.websocket") || !strings.Contains(err.Error(), "a/chat.websocket") {
		t.Fatalf("got %v, want an error naming both files", err)
	}
	if t1.Lookup("chat").Project != "a" {
		t.Fatal("a failed With must leave the table unchanged")
	}
	if t2, err := t1.With(a); err != nil || t2.Lookup("chat") == nil {
		t.Fatalf("re-adding a project to itself: got %v", err)
	}
	if t1.Without("a").Lookup("chat") != nil {
		t.Fatal("Without kept the endpoint")
	}
}

func TestParseHTTPDescriptor(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		wantErr    string
		want       string // path and methods
	}{
		{name: "default GET", json: `{"path": "/System/Info", "handler": "p/info"}`, want: "/System/Info GET"},
		{name: "methods", json: `{"path": "/api/user/auth", "handler": "p/auth", "methods": ["POST", "GET"]}`, want: "/api/user/auth POST,GET"},
		{name: "websocket path", json: `{"path": "/mediabrowser", "handler": "p/h", "endpoint": "x"}`, want: "unknown endpoint"},
		{name: "missing path", json: `{"handler": "p/h"}`, wantErr: `missing "path"`},
		{name: "relative path", json: `{"path": "api", "handler": "p/h"}`, wantErr: "must be absolute"},
		{name: "unclean path", json: `{"path": "/a/../b", "handler": "p/h"}`, wantErr: "clean URL path"},
		{name: "trailing slash", json: `{"path": "/a/", "handler": "p/h"}`, wantErr: "clean URL path"},
		{name: "query in path", json: `{"path": "/a?b", "handler": "p/h"}`, wantErr: "clean URL path"},
		{name: "reserved websockets", json: `{"path": "/websockets/x", "handler": "p/h"}`, wantErr: "under /websockets/"},
		{name: "reserved admin", json: `{"path": "/admin", "handler": "p/h"}`, wantErr: "under /admin/"},
		{name: "lower-case method", json: `{"path": "/a", "handler": "p/h", "methods": ["get"]}`, wantErr: `"get" is not one of`},
		{name: "empty methods", json: `{"path": "/a", "handler": "p/h", "methods": []}`, wantErr: "non-empty array"},
		{name: "methods not array", json: `{"path": "/a", "handler": "p/h", "methods": "GET"}`, wantErr: "non-empty array"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := ParseHTTPDescriptor("d.http", []byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v", err)
			}
			if tc.want == "unknown endpoint" {
				if len(d.Unknown) != 1 || d.Unknown[0] != "endpoint" {
					t.Fatalf("got unknown %v, want [endpoint]", d.Unknown)
				}
				return
			}
			if got := d.Path + " " + strings.Join(d.Methods, ","); got != tc.want || d.Kind != KindHTTP || d.Key() != d.Path {
				t.Fatalf("got %q (kind %s), want %q", got, d.Kind, tc.want)
			}
		})
	}
	d, err := ParseDescriptor("d.websocket", []byte(`{"endpoint": "e", "handler": "p/h", "path": "/mediabrowser"}`))
	if err != nil || d.Path != "/mediabrowser" || d.Key() != "e" {
		t.Fatalf("websocket with path: got %+v, %v", d, err)
	}
	if _, err := ParseDescriptor("d.websocket", []byte(`{"endpoint": "e", "handler": "p/h", "path": "/admin/x"}`)); err == nil {
		t.Fatal("a websocket path under /admin/ was accepted")
	}
}

func TestTablePathConflicts(t *testing.T) {
	ws := &Descriptor{Kind: KindWebSocket, Endpoint: "mb", Path: "/mediabrowser", Project: "a", File: "a/mb.websocket"}
	h := &Descriptor{Kind: KindHTTP, Path: "/mediabrowser", Project: "b", File: "b/mb.http"}
	t1, err := (&Table{}).With(&Project{Name: "a", Descriptors: []*Descriptor{ws}})
	if err != nil {
		t.Fatal(err)
	}
	if t1.LookupPath("/mediabrowser") != ws || t1.Lookup("mb") != ws {
		t.Fatal("websocket endpoint not found by name and path")
	}
	_, err = t1.With(&Project{Name: "b", Descriptors: []*Descriptor{h}})
	if err == nil || !strings.Contains(err.Error(), "b/mb.http") || !strings.Contains(err.Error(), "a/mb.websocket") {
		t.Fatalf("got %v, want a path conflict naming both files", err)
	}
	same := &Descriptor{Kind: KindHTTP, Path: "/mediabrowser", Project: "a", File: "a/other.http"}
	if _, err := (&Table{}).With(&Project{Name: "a", Descriptors: []*Descriptor{ws, same}}); err == nil || !strings.Contains(err.Error(), "already declared by a/mb.websocket") {
		t.Fatalf("got %v, want a conflict inside the project", err)
	}
}

func FuzzParseHTTPDescriptor(f *testing.F) {
	f.Add(`{"path": "/System/Info", "handler": "p/info", "methods": ["GET", "POST"]}`)
	f.Add(`{"path": "/admin/x", "handler": "p/h"}`)
	f.Add(`{"path": "/a/./b", "handler": "p/h", "methods": ["get"]}`)
	f.Add("\ufeff" + `{"path": "a", "handler": "/h", "methods": []}`)
	f.Fuzz(func(t *testing.T, data string) {
		d, err := ParseHTTPDescriptor("f.http", []byte(data))
		if err != nil {
			checkNamesFile(t, err, "f.http")
			return
		}
		if checkMountPath(d.Path) != nil || checkHandlerPath(d.Handler) != nil || len(d.Methods) == 0 {
			t.Fatalf("accepted invalid descriptor %+v", d)
		}
	})
}

func FuzzParseDescriptor(f *testing.F) {
	f.Add(`{"handler": "my-project/ws-handler", "endpoint": "my-endpoint", "description": "My Websocket"}`)
	f.Add(`{"handler": "p/h", "endpoint": "a/b"}`)
	f.Add(`{"handler": "../x", "endpoint": "e", "x": [1, {"y": null}]}`)
	f.Add("{\n\"handler\": \"p/h\",\n")
	f.Add(`[]`)
	f.Add(`{"handler": 5, "endpoint": [".."], "compression": "yes"}`)
	f.Add("\ufeff" + `{"handler": "p/h", "endpoint": "."}`)
	f.Add("\xff\xfe{\x00}\x00")
	f.Fuzz(func(t *testing.T, data string) {
		d, err := ParseDescriptor("f.websocket", []byte(data))
		if err != nil {
			checkNamesFile(t, err, "f.websocket")
			return
		}
		if checkEndpointName(d.Endpoint) != nil || checkHandlerPath(d.Handler) != nil {
			t.Fatalf("accepted invalid descriptor %+v", d)
		}
		if !json.Valid([]byte(strings.TrimPrefix(data, "\ufeff"))) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}

// checkNamesFile fails t unless err, and each problem joined in it, is an *Error
// naming file, so that every line printed for it starts with the file.
func checkNamesFile(t *testing.T, err error, file string) {
	t.Helper()
	parts := []error{err}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		parts = j.Unwrap()
	}
	for _, part := range parts {
		de, ok := part.(*Error)
		if !ok || de.File != file {
			t.Fatalf("problem %q (%T) is not an *Error naming %s", part, part, file)
		}
		if de.Line < 0 || de.Col < 0 || (de.Line == 0) != (de.Col == 0) {
			t.Fatalf("problem %q has position %d:%d", part, de.Line, de.Col)
		}
	}
}

func TestParseSettings(t *testing.T) {
	for _, tc := range []struct {
		name, json string
		want       Settings
		warnings   int
		wantErr    string
	}{
		{"empty object", `{}`, Settings{}, 0, ""},
		{"workers", `{"workers": 4}`, Settings{Workers: 4}, 0, ""},
		{"whole float", `{"workers": 2.0}`, Settings{Workers: 2}, 0, ""},
		{"unknown field", `{"workers": 2, "wrokers": 3}`, Settings{Workers: 2}, 1, ""},
		{"zero workers", `{"workers": 0}`, Settings{}, 0, `blimp.json:1:13: "workers" must be a whole number from 1 to 64`},
		{"too many", "{\n  \"workers\": 65\n}", Settings{}, 0, `blimp.json:2:14: "workers" must be a whole number from 1 to 64`},
		{"fraction", `{"workers": 1.5}`, Settings{}, 0, `"workers" must be a whole number`},
		{"string", `{"workers": "2"}`, Settings{}, 0, `"workers" must be a whole number`},
		{"not an object", `[1]`, Settings{}, 0, `blimp.json:1:2: a project's blimp.json is a JSON object like {"workers": 2}, got array`},
		{"bad JSON", `{"workers": }`, Settings{}, 0, "blimp.json:1:13: invalid JSON"},
		{"trailing data", `{} {}`, Settings{}, 0, "unexpected data after the settings object"},
		{"byte-order mark", "\xef\xbb\xbf{\"workers\": 3}", Settings{Workers: 3}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, warnings, err := ParseSettings("blimp.json", []byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || got != tc.want || len(warnings) != tc.warnings {
				t.Fatalf("got %+v, warnings %q, error %v; want %+v and %d warnings", got, warnings, err, tc.want, tc.warnings)
			}
		})
	}
}

func TestScanProjectReadsSettings(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"blimp.json":       `{"workers": 2}`,
		"p/blimp.json":     `{"workers": 3, "note": "x"}`,
		"p/lib/blimp.json": `not read: only the project folder's own counts`,
		"p/e.websocket":    `{"endpoint": "e", "handler": "p/e"}`,
		"p/e.js":           `export const onMessage = (m) => m;`,
		"bad/blimp.json":   `{"workers": -1}`,
	})
	p, err := ScanProject(root, "p")
	if err != nil || p.Settings.Workers != 3 || len(p.Warnings) != 1 || !strings.Contains(p.Warnings[0], `unknown field "note"`) {
		t.Fatalf("got %+v, %v; want 3 workers and a warning for note", p, err)
	}
	if _, err := ScanProject(root, "bad"); err == nil || !strings.Contains(err.Error(), "bad/blimp.json:1:13:") {
		t.Fatalf("got %v, want the bad blimp.json with its position", err)
	}
	if w := RootWarnings(root); len(w) != 1 || !strings.Contains(w[0], "blimp.json: not read: a blimp.json belongs in a project folder") {
		t.Fatalf("root warnings: got %q, want one for the blimp.json in the root", w)
	}
}

// FuzzParseSettings: any input is settings within bounds or an error naming the file.
func FuzzParseSettings(f *testing.F) {
	for _, s := range []string{`{}`, `{"workers": 2}`, `{"workers": 1e3}`, `{"workers": null}`, `[]`, `{"a":1,"workers":64}`, "\xef\xbb\xbf{}"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, warnings, err := ParseSettings("blimp.json", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "blimp.json") {
				t.Fatalf("error %q does not start with the file name", err)
			}
			return
		}
		if s.Workers < 0 || s.Workers > MaxWorkers {
			t.Fatalf("workers %d out of bounds", s.Workers)
		}
		for _, w := range warnings {
			if !strings.HasPrefix(w, "blimp.json: ") {
				t.Fatalf("warning %q does not start with the file name", w)
			}
		}
	})
}
