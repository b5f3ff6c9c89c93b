package endpoints

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
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
		{name: "both missing", json: `{}`, wantErr: `missing "endpoint"` + "\n" + `missing "handler"`},
		{name: "endpoint with slash", json: `{"handler": "p/h", "endpoint": "a/b"}`, wantErr: `endpoint "a/b" must be one path segment`},
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
	write := func(name, content string) {
		p := filepath.Join(root, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("other/secret.js", "")
	write("p/ts.ts", "")
	write("p/lib/index.js", "")
	write("p/both.js", "")
	write("p/both.ts", "")
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
	f.Fuzz(func(t *testing.T, data string) {
		d, err := ParseHTTPDescriptor("f.http", []byte(data))
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.File != "f.http" {
				t.Fatalf("error %v does not name the file", err)
			}
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
	f.Fuzz(func(t *testing.T, data string) {
		d, err := ParseDescriptor("f.websocket", []byte(data))
		if err != nil {
			var de *Error
			if !errors.As(err, &de) || de.File != "f.websocket" {
				t.Fatalf("error %v does not name the file", err)
			}
			return
		}
		if !endpointName.MatchString(d.Endpoint) || checkHandlerPath(d.Handler) != nil {
			t.Fatalf("accepted invalid descriptor %+v", d)
		}
		if !json.Valid([]byte(data)) {
			t.Fatalf("accepted invalid JSON %q", data)
		}
	})
}
