package server

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

var httpProject = map[string]string{
	"web/api.http": `{"path": "/api/echo", "handler": "web/api", "methods": ["GET", "POST"]}`,
	"web/api.js": `
import { hits } from "./state";
export async function onRequest(req) {
  switch (req.query.form) {
    case "text": return "hello " + (req.query.name || "world");
    case "json": return { method: req.method, path: req.path, q: req.query, agent: req.headers["user-agent"], body: req.body, json: req.json, hits: hits.n };
    case "full": return { status: 201, headers: { "X-Blimp": "yes" }, body: { created: true } };
    case "fulltext": return { status: 202, body: "accepted" };
    case "none": return undefined;
    case "bytes": return new Uint8Array([1, 2, 3]);
    case "async": return await new Promise((r) => setTimeout(() => r("later"), 10));
    case "throw": throw new Error("secret internals");
    case "reject": return Promise.reject(new Error("secret rejection"));
    case "spin": while (true) {}
    case "badstatus": return { status: 99 };
  }
  return null;
}`,
	"web/state.js":     `export const hits = { n: 0 };`,
	"web/ws.websocket": `{"endpoint": "webws", "handler": "web/ws", "path": "/mediabrowser"}`,
	"web/ws.js": `
import { hits } from "./state";
export function onMessage(m) { hits.n++; return "hit " + hits.n; }`,
}

func TestHTTPEndpoints(t *testing.T) {
	s := startFilesWith(t, httpProject, func(c *config.Config) { c.Runtime.EventTimeout.Duration = 500 * time.Millisecond })
	base := "http://" + s.addr
	for _, tc := range []struct {
		name, method, query, body, ctype string
		wantStatus                       int
		wantType, wantBody               string
	}{
		{"text", "GET", "form=text&name=ada", "", "", 200, "text/plain; charset=utf-8", "hello ada"},
		{"json", "POST", "form=json&x=1", `{"a":[1,2]}`, "application/json", 200, "application/json",
			`{"method":"POST","path":"/api/echo","q":{"form":"json","x":"1"},"agent":"blimp-test","body":"{\"a\":[1,2]}","json":{"a":[1,2]},"hits":0}`},
		{"plain body is not parsed", "POST", "form=json", `{"a":1}`, "text/plain", 200, "application/json",
			`{"method":"POST","path":"/api/echo","q":{"form":"json"},"agent":"blimp-test","body":"{\"a\":1}","hits":0}`},
		{"full", "GET", "form=full", "", "", 201, "application/json", `{"created":true}`},
		{"full text", "GET", "form=fulltext", "", "", 202, "text/plain; charset=utf-8", "accepted"},
		{"none", "GET", "form=none", "", "", 204, "", ""},
		{"null", "GET", "", "", "", 200, "application/json", "null"},
		{"bytes", "GET", "form=bytes", "", "", 200, "application/octet-stream", "\x01\x02\x03"},
		{"async", "GET", "form=async", "", "", 200, "text/plain; charset=utf-8", "later"},
		{"throw", "GET", "form=throw", "", "", 500, "application/json", `{"error":"internal error in the request handler (details are in the server log)"}`},
		{"reject", "GET", "form=reject", "", "", 500, "application/json", `{"error":"internal error in the request handler (details are in the server log)"}`},
		{"time limit", "GET", "form=spin", "", "", 504, "application/json", `{"error":"the handler ran out of time"}`},
		{"bad status", "GET", "form=badstatus", "", "", 500, "application/json", ""},
		{"method not listed", "DELETE", "", "", "", 405, "application/json", ""},
		{"invalid JSON body", "POST", "form=json", `{"a":`, "application/json", 400, "application/json", ""},
		{"body too large", "POST", "form=json", strings.Repeat("x", 2048), "text/plain", 413, "application/json", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, base+"/api/echo?"+tc.query, strings.NewReader(tc.body))
			req.Header.Set("User-Agent", "blimp-test")
			if tc.ctype != "" {
				req.Header.Set("Content-Type", tc.ctype)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantStatus {
				t.Fatalf("got status %d (%s), want %d", resp.StatusCode, body, tc.wantStatus)
			}
			if got := resp.Header.Get("Content-Type"); got != tc.wantType {
				t.Fatalf("got Content-Type %q, want %q", got, tc.wantType)
			}
			got := strings.TrimSpace(string(body))
			if tc.name == "time limit" && got == `{"error":"the handler did not answer within 500ms"}` {
				got = tc.wantBody // the interrupt and the request's own deadline race; both are 504
			}
			if tc.wantBody != "" && got != tc.wantBody {
				t.Fatalf("got body %s, want %s", body, tc.wantBody)
			}
			if strings.Contains(string(body), "secret") || strings.Contains(string(body), "api.js") {
				t.Fatalf("error body leaks handler details: %s", body)
			}
		})
	}
	if resp, _ := http.Get(base + "/api/echo?form=full"); resp.Header.Get("X-Blimp") != "yes" {
		t.Fatalf("full response header missing: %v", resp.Header)
	}
	if resp, _ := http.Head(base + "/api/echo?form=text"); resp.StatusCode != http.StatusOK || resp.ContentLength != int64(len("hello world")) {
		t.Fatalf("HEAD: got %d Content-Length %d, want 200 and the length of GET's body", resp.StatusCode, resp.ContentLength)
	}
	s.log.WaitFor(t, "secret internals")
	s.log.WaitFor(t, "api.js:")
}

func TestHTTPSharesModuleStateAndReloads(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, httpProject)
	s := start(t, root, nil)
	// The WebSocket endpoint is served at its extra path and at the service path.
	c := wstest.Dial(t, "ws://"+s.addr+"/mediabrowser", nil, nil)
	c.Ask("a")
	if got := s.dial(t, "webws").Ask("b"); got != "hit 2" {
		t.Fatalf("got %q, want hit 2 (one module state for both paths)", got)
	}
	var got struct{ Hits int }
	resp, err := http.Get("http://" + s.addr + "/api/echo?form=json")
	if err != nil {
		t.Fatal(err)
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if got.Hits != 2 {
		t.Fatalf("HTTP handler saw hits %d, want 2: it must share the WebSocket handler's module state", got.Hits)
	}
	if resp, _ := http.Get("http://" + s.addr + "/mediabrowser"); resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("plain GET on a WebSocket path: got %d, want 400", resp.StatusCode)
	}

	wstest.WriteFiles(t, root, map[string]string{"web/api.js": `export const onRequest = () => "v2";`})
	wstest.Eventually(t, func() string {
		resp, err := http.Get("http://" + s.addr + "/api/echo")
		if err != nil {
			return err.Error()
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "v2" {
			return "HTTP handler not reloaded: got " + string(b)
		}
		return ""
	})
	wstest.WriteFiles(t, root, map[string]string{"web/api.http": `{"path": "/api/moved", "handler": "web/api"}`})
	wstest.Eventually(t, func() string {
		resp, err := http.Get("http://" + s.addr + "/api/echo")
		if err != nil {
			return err.Error()
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			return "old path still served after the descriptor changed"
		}
		return ""
	})
}

func TestMountPathErrors(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string
	}{
		{"two projects claim a path", map[string]string{
			"a/x.http": `{"path": "/shared", "handler": "a/h"}`, "a/h.js": `export const onRequest = () => 1;`,
			"b/y.websocket": `{"endpoint": "y", "handler": "b/h", "path": "/shared"}`, "b/h.js": `export const onMessage = (m) => m;`,
		}, []string{"b/y.websocket", "a/x.http", `path "/shared"`}},
		{"same project twice", map[string]string{
			"a/x.http": `{"path": "/p", "handler": "a/h"}`, "a/z.http": `{"path": "/p", "handler": "a/h"}`, "a/h.js": `export const onRequest = () => 1;`,
		}, []string{"a/z.http", "a/x.http", `path "/p"`}},
		{"reserved prefix", map[string]string{
			"a/x.http": `{"path": "/websockets/v4/service/x", "handler": "a/h"}`, "a/h.js": `export const onRequest = () => 1;`,
		}, []string{"a/x.http", "under /websockets/"}},
		{"no onRequest", map[string]string{
			"a/x.http": `{"path": "/p", "handler": "a/h"}`, "a/h.js": `export const onMessage = (m) => m;`,
		}, []string{"a/x.http", "must export onRequest"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := t.TempDir()
			wstest.WriteFiles(t, root, tc.files)
			res := Check(config.Default(), root)
			all := ""
			for _, e := range res.Errors {
				all += e.Error() + "\n"
			}
			for _, w := range tc.want {
				if !strings.Contains(all, w) {
					t.Fatalf("check errors %q do not mention %q", all, w)
				}
			}
		})
	}
}

func TestTrailingSlashAndCrypto(t *testing.T) {
	s := startFiles(t, map[string]string{
		"p/r.http": `{"path": "/rand", "handler": "p/r"}`,
		"p/r.js": `export function onRequest() {
  const b = crypto.getRandomValues(new Uint8Array(16));
  return { uuid: crypto.randomUUID(), filled: b.some((x) => x !== 0) };
}`,
	})
	resp, err := http.Get("http://" + s.addr + "/rand/")
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		UUID   string
		Filled bool
	}
	json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(got.UUID) != 36 || got.UUID[14] != '4' || !got.Filled {
		t.Fatalf("got %d %+v, want a v4 UUID and random bytes at /rand/", resp.StatusCode, got)
	}
}
