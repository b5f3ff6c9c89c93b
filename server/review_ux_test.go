package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

// httpDo sends a request with no body and returns the response with its body read.
func httpDo(t *testing.T, method, url string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(body)
}

func TestHTTPResponseHeaderArrays(t *testing.T) {
	s := startFiles(t, map[string]string{
		"web/h.http": `{"path": "/h", "handler": "web/h"}`,
		"web/h.js": `
export function onRequest(req) {
  switch (req.query.form) {
    case "cookies": return { status: 200, headers: { "Set-Cookie": ["a=1", "b=2"], "X-Count": 3, "X-Mixed": ["one", 2] }, body: "x" };
    case "bool": return { status: 200, headers: { "X-Bad-Bool": true }, body: "x" };
    case "object": return { status: 200, headers: { "X-Bad-Element": ["ok", { no: 1 }] }, body: "x" };
    case "null": return { status: 200, headers: { "X-Bad-Null": null }, body: "x" };
  }
}`,
	})
	base := "http://" + s.addr + "/h?form="

	resp, body := httpDo(t, "GET", base+"cookies")
	if resp.StatusCode != 200 || body != "x" {
		t.Fatalf("got %d %q, want 200 x", resp.StatusCode, body)
	}
	for name, want := range map[string][]string{
		"Set-Cookie": {"a=1", "b=2"},
		"X-Count":    {"3"},
		"X-Mixed":    {"one", "2"},
	} {
		if got := resp.Header.Values(name); !slices.Equal(got, want) {
			t.Errorf("header %s: got lines %q, want %q (one line per array element)", name, got, want)
		}
	}
	if got := len(resp.Cookies()); got != 2 {
		t.Errorf("got %d cookies, want 2", got)
	}

	for _, tc := range []struct{ form, header string }{
		{"bool", "X-Bad-Bool"},
		{"object", "X-Bad-Element"},
		{"null", "X-Bad-Null"},
	} {
		t.Run(tc.form, func(t *testing.T) {
			resp, body := httpDo(t, "GET", base+tc.form)
			if resp.StatusCode != http.StatusInternalServerError {
				t.Fatalf("got %d %s, want 500", resp.StatusCode, body)
			}
			if resp.Header.Get(tc.header) != "" {
				t.Fatalf("bad header %s was sent: %q", tc.header, resp.Header.Get(tc.header))
			}
			s.log.WaitForLine(t, "script error", tc.header, "a string, a number or an array of them")
		})
	}
}

func TestHTTPHeadServedWhereGetIs(t *testing.T) {
	s := startFiles(t, map[string]string{
		"web/get.http":  `{"path": "/get", "handler": "web/h"}`,
		"web/both.http": `{"path": "/both", "handler": "web/h", "methods": ["GET", "POST"]}`,
		"web/head.http": `{"path": "/head", "handler": "web/h", "methods": ["GET", "HEAD"]}`,
		"web/post.http": `{"path": "/post", "handler": "web/h", "methods": ["POST"]}`,
		"web/h.js": `
let runs = 0;
export function onRequest(req) {
  runs++;
  return { status: 200, headers: { "X-Method": req.method, "X-Runs": runs }, body: { hello: "world" } };
}`,
	})
	base := "http://" + s.addr

	get, getBody := httpDo(t, "GET", base+"/get")
	head, headBody := httpDo(t, "HEAD", base+"/get")
	if head.StatusCode != 200 || headBody != "" {
		t.Fatalf("HEAD /get: got %d with body %q, want 200 and no body", head.StatusCode, headBody)
	}
	if got, want := head.Header.Get("X-Method"), "HEAD"; got != want {
		t.Fatalf("HEAD /get: handler saw method %q, want %q", got, want)
	}
	if got, want := head.Header.Get("X-Runs"), "2"; got != want {
		t.Fatalf("HEAD /get: got X-Runs %q, want %q (the handler runs for HEAD)", got, want)
	}
	for _, name := range []string{"Content-Type", "Content-Length"} {
		if g, h := get.Header.Get(name), head.Header.Get(name); g != h || g == "" {
			t.Errorf("header %s: GET has %q, HEAD has %q; want the same", name, g, h)
		}
	}
	if getBody != `{"hello":"world"}` {
		t.Errorf("GET body: got %q", getBody)
	}

	for _, tc := range []struct {
		method, path string
		status       int
		allow        string
	}{
		{"HEAD", "/both", 200, ""},
		{"HEAD", "/head", 200, ""},
		{"DELETE", "/get", 405, "GET, HEAD"},
		{"DELETE", "/both", 405, "GET, POST, HEAD"},
		{"DELETE", "/head", 405, "GET, HEAD"},
		{"HEAD", "/post", 405, "POST"},
	} {
		t.Run(tc.method+" "+tc.path, func(t *testing.T) {
			resp, body := httpDo(t, tc.method, base+tc.path)
			if resp.StatusCode != tc.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tc.status)
			}
			if got := resp.Header.Get("Allow"); got != tc.allow {
				t.Fatalf("got Allow %q, want %q", got, tc.allow)
			}
		})
	}
}

func TestRequireBrokenJSON(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"jsonreq/h.websocket": `{"endpoint": "jsonreq", "handler": "jsonreq/h"}`,
		"jsonreq/h.js":        `const c = require("./c.json"); export const onMessage = () => c.a;`,
		"jsonreq/c.json":      `{"a":`,
	})
	s := start(t, root, nil)
	line := s.log.WaitForLine(t, "project not loaded", "c.json:1:6: invalid JSON: unexpected end of JSON input")
	if strings.Contains(line, "Unexpected token") || strings.Contains(line, "more errors") {
		t.Fatalf("the error reads like JavaScript, not JSON: %s", line)
	}

	// A bad character on a later line is located there.
	wstest.WriteFiles(t, root, map[string]string{"jsonreq/c.json": "{\n  \"a\": 1,\n  \"b\": x\n}\n"})
	s.log.WaitForLine(t, "project not loaded", `c.json:3:8: invalid JSON: invalid character 'x' looking for beginning of value`)

	// Fixing the file recovers.
	wstest.WriteFiles(t, root, map[string]string{"jsonreq/c.json": "\ufeff{\"a\": \"fine\"}"})
	wstest.Eventually(t, func() string {
		c, _, err := wstest.TryDial(t, s.url("jsonreq"), nil, nil)
		if err != nil {
			return "not served yet: " + err.Error()
		}
		defer c.CloseWith(1000, "")
		if got := c.Ask("a"); got != "fine" {
			return "got " + got + ", want fine"
		}
		return ""
	})
}

func TestConnDataCycleKeepsTheRestOverReload(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"cyc/c.websocket": `{"endpoint": "cyc", "handler": "cyc/c"}`,
		"cyc/c.js": `
export function onMessage(m, conn) {
  if (m !== "set") return "v1";
  const d = conn.data;
  d.self = d;
  d.keep = "yes";
  d.nested = { list: [1, d, 3] };
  d.nested.list.push({ up: d.nested });
  d.shared = { n: 1 };
  d.twice = d.shared;
  d.big = BigInt(10);
  return "v1";
}`,
	})
	s := start(t, root, nil)
	c := s.dial(t, "cyc")
	if got := c.Ask("set"); got != "v1" {
		t.Fatalf("got %q, want v1", got)
	}
	wstest.WriteFiles(t, root, map[string]string{"cyc/c.js": `export const onMessage = (m, conn) => conn.data;`})
	want := `{"keep":"yes","nested":{"list":[1,null,3,{}]},"shared":{"n":1},"twice":{"n":1}}`
	wstest.Eventually(t, func() string {
		if got := c.Ask("get"); got != want {
			return "got " + got + ", want " + want
		}
		return ""
	})
	s.log.WaitForLine(t, "conn.data", "self (cycle)", "nested.list[1] (cycle)", "nested.list[3].up (cycle)", "big (BigInt)")
	if strings.Contains(s.log.String(), "does not survive the reload") {
		t.Fatalf("the whole data was given up:\n%s", s.log.String())
	}
}

func TestEmptyRoomNameShowsTheValue(t *testing.T) {
	s := startFiles(t, map[string]string{
		"r/r.websocket": `{"endpoint": "rooms", "handler": "r/r"}`,
		"r/r.js": `
export function onMessage(m, conn) {
  try { conn.join(JSON.parse(m)); } catch (e) { return e.message; }
  return "joined";
}`,
	})
	c := s.dial(t, "rooms")
	for _, tc := range []struct{ arg, want string }{
		{`""`, `join: a room name is a non-empty string of at most 256 bytes, got ""`},
		{`5`, `got 5`},
		{`null`, `got null`},
		{`"` + strings.Repeat("x", 300) + `"`, `got a string of 300 bytes`},
	} {
		if got := c.Ask(tc.arg); !strings.HasSuffix(got, tc.want) {
			t.Errorf("join(%.20s): got %q, want it to end in %q", tc.arg, got, tc.want)
		}
	}
}

func TestStoreIdMustBeAString(t *testing.T) {
	s := startFiles(t, map[string]string{
		"d/d.websocket": `{"endpoint": "ids", "handler": "d/d"}`,
		"d/d.js": `
import { store } from "sdk/db";
export async function onMessage(m) {
  const [op, id] = JSON.parse(m);
  try {
    const r = await store[op]("t", id);
    return "no error: " + JSON.stringify(r);
  } catch (e) { return e.message; }
}`,
	})
	c := s.dial(t, "ids")
	for _, tc := range []struct{ msg, want string }{
		{`["get", 5]`, `store.get(collection, id): id must be a non-empty string, got 5`},
		{`["get", ""]`, `store.get(collection, id): id must be a non-empty string, got ""`},
		{`["get"]`, `store.get(collection, id): id must be a non-empty string, got undefined`},
		{`["remove", 5]`, `store.remove(collection, id): id must be a non-empty string, got 5`},
		{`["remove", null]`, `store.remove(collection, id): id must be a non-empty string, got null`},
		{`["get", "0000000000000000"]`, `no error: null`},
		{`["remove", "0000000000000000"]`, `no error: false`},
	} {
		if got := c.Ask(tc.msg); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.msg, got, tc.want)
		}
	}
}

// A .json module is data: a "__proto__" key is a key like any other.
func TestRequireJSONProtoKey(t *testing.T) {
	s := startFiles(t, map[string]string{
		"j/j.websocket": `{"endpoint": "j", "handler": "j/h"}`,
		"j/c.json":      `{"__proto__": {"polluted": true}, "name": "c"}`,
		"j/h.js": `
const c = require("./c.json");
export const onMessage = () => JSON.stringify([Object.keys(c), c.polluted === undefined]);`,
	})
	if got := s.dial(t, "j").Ask("x"); got != `[["__proto__","name"],true]` {
		t.Fatalf("got %s, want the __proto__ key kept as a key and no prototype set", got)
	}
}

// A JavaScript stack through blimp's own functions names them as JavaScript sees
// them, never by their Go symbols.
func TestNativeFunctionsHaveJavaScriptNames(t *testing.T) {
	s := startFiles(t, map[string]string{
		"n/n.websocket": `{"endpoint": "n", "handler": "n/h"}`,
		"n/h.js": `
import { websockets } from "sdk/net";
import { store } from "sdk/db";
const stack = (f) => { try { f(); } catch (e) { return e.stack; } return "no error"; };
export function onMessage(m, conn) {
	return [
		stack(() => conn.send(() => 1)),
		stack(() => conn.join("")),
		stack(() => websockets.send()),
		stack(() => store.get("c", 5)),
		stack(() => setTimeout(5)),
		[conn.send.name, websockets.broadcast.name, store.save.name, setTimeout.name].join(","),
	].join("\n");
}`,
	})
	got := s.dial(t, "n").Ask("x")
	if strings.Contains(got, "github.com") || strings.Contains(got, ".func") {
		t.Fatalf("stacks name Go symbols:\n%s", got)
	}
	for _, want := range []string{"at send (native)", "at join (native)", "at get (native)", "at setTimeout (native)", "send,broadcast,save,setTimeout"} {
		if !strings.Contains(got, want) {
			t.Errorf("no %q in:\n%s", want, got)
		}
	}
}

// The connection object: metadata and methods from its prototype, data made on
// first use or assigned whole, JSON showing what it stands for; all of it in
// onClose too, and an assigned data surviving a reload.
func TestConnObjectShape(t *testing.T) {
	root := t.TempDir()
	const handler = `
import { websockets } from "sdk/net";
const version = %q;
export function onMessage(m, conn) {
	if (m === "assign") { conn.data = { assigned: true }; return "ok"; }
	if (m === "json") { conn.nick = "ada"; return JSON.stringify(conn); }
	if (m === "keys") return JSON.stringify(Object.keys(conn));
	if (m === "copy") { try { websockets.send({ ...conn }, "x"); return "sent"; } catch (e) { return e.message; } }
	return [version, typeof conn.id, conn.endpoint, typeof conn.remoteAddress, typeof conn.openedAt,
		JSON.stringify(conn.data), String(conn) === conn.id].join(" ");
}
export function onClose(conn) {
	websockets.broadcast("w", "closed " + conn.endpoint + " " + (typeof conn.id) + " " + JSON.stringify(conn.data));
}`
	wstest.WriteFiles(t, root, map[string]string{
		"s/s.websocket": `{"endpoint": "s", "handler": "s/h"}`,
		"s/w.websocket": `{"endpoint": "w", "handler": "s/w"}`,
		"s/w.js":        `export const onMessage = (m) => m;`,
		"s/h.js":        fmt.Sprintf(handler, "one"),
	})
	s := start(t, root, func(c *config.Config) { c.Projects.Watch = false })
	c := s.dial(t, "s")
	if got := c.Ask("x"); got != "one string s string number {} true" {
		t.Fatalf("got %q", got)
	}
	// A connection whose handler never touched data has none, across a reload too.
	lazy := s.dial(t, "s")
	if got := lazy.Ask("keys"); got != "[]" {
		t.Fatalf("Object.keys of a fresh connection: got %s, want []", got)
	}
	var j map[string]any
	if err := json.Unmarshal([]byte(c.Ask("json")), &j); err != nil || j["endpoint"] != "s" || j["id"] == nil || j["openedAt"] == nil || j["remoteAddress"] == nil || j["data"] == nil || j["nick"] != "ada" {
		t.Fatalf("JSON.stringify(conn): got %v (%v), want id, endpoint, remoteAddress, openedAt, data and the handler's nick", j, err)
	}
	if got := c.Ask("copy"); !strings.Contains(got, "send: expected a connection or its id, got an object with no id") {
		t.Fatalf("send to a copy of a connection: got %q, want a clear error", got)
	}
	if got := c.Ask("assign"); got != "ok" {
		t.Fatalf("got %q", got)
	}
	wstest.WriteFiles(t, root, map[string]string{"s/h.js": fmt.Sprintf(handler, "two")})
	if err := s.LoadProject("s"); err != nil {
		t.Fatal(err)
	}
	if got := c.Ask("x"); got != `two string s string number {"assigned":true} true` {
		t.Fatalf("after a reload: got %q, want the assigned data kept", got)
	}
	if got := lazy.Ask("keys"); got != "[]" {
		t.Fatalf("Object.keys after a reload of a connection that never used data: got %s, want []", got)
	}
	w := s.dial(t, "w")
	s.waitConns(t, "w", 1)
	c.CloseWith(1000, "")
	w.Expect(`closed s string {"assigned":true}`)
}
