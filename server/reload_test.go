package server

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

const versionHandler = `
export function onOpen(conn) { conn.data.count = 0; }
export function onMessage(m, conn) { conn.data.count++; return "%s:" + conn.data.count + ":" + m; }
`

func reloadRoot(t *testing.T) (string, *testServer) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/v.websocket":   `{"handler": "app/v", "endpoint": "v"}`,
		"app/v.js":          fmt.Sprintf(versionHandler, "one"),
		"other/e.websocket": `{"handler": "other/e", "endpoint": "e"}`,
		"other/e.js":        `export const onMessage = (m) => m;`,
	})
	return root, start(t, root, nil)
}

func TestReloadKeepsConnectionAndData(t *testing.T) {
	root, s := reloadRoot(t)
	c := s.dial(t, "v")
	if got := c.Ask("a"); got != "one:1:a" {
		t.Fatalf("got %q, want one:1:a", got)
	}
	wstest.WriteFiles(t, root, map[string]string{"app/v.js": fmt.Sprintf(versionHandler, "two")})
	n := 1
	wstest.Eventually(t, func() string {
		n++
		got := c.Ask("b")
		if got == fmt.Sprintf("two:%d:b", n) {
			return ""
		}
		if got != fmt.Sprintf("one:%d:b", n) {
			t.Fatalf("got %q: conn.data did not survive the reload (want count %d)", got, n)
		}
		return "the new handler never answered; last reply " + got
	})
}

func TestReloadEditorRenameSave(t *testing.T) {
	root, s := reloadRoot(t)
	c := s.dial(t, "v")
	tmp := filepath.Join(root, "app", ".v.js.tmp")
	if err := os.WriteFile(tmp, []byte(fmt.Sprintf(versionHandler, "renamed")), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(root, "app", "v.js")); err != nil {
		t.Fatal(err)
	}
	wstest.Eventually(t, func() string {
		if got := c.Ask("x"); !strings.HasPrefix(got, "renamed:") {
			return "never saw the renamed file's handler; last reply " + got
		}
		return ""
	})
}

func TestReloadBrokenEditKeepsOldGeneration(t *testing.T) {
	root, s := reloadRoot(t)
	c := s.dial(t, "v")
	wstest.WriteFiles(t, root, map[string]string{"app/v.js": "export function onMessage(m) {\n  return 'broken' +;\n}\n"})
	s.log.WaitFor(t, "v.js:2:")
	if got := c.Ask("a"); got != "one:1:a" {
		t.Fatalf("got %q after a broken edit, want the old handler's one:1:a", got)
	}
	st := statusOf(s.Server, "app")
	if !strings.Contains(st.Error, "v.js:2:") || st.Generation != 1 {
		t.Fatalf("got status %+v, want generation 1 and the syntax error with its position", st)
	}
	wstest.WriteFiles(t, root, map[string]string{"app/v.js": fmt.Sprintf(versionHandler, "fixed")})
	wstest.Eventually(t, func() string {
		if got := c.Ask("b"); !strings.HasPrefix(got, "fixed:") {
			return "the fix never took effect; last reply " + got
		}
		return ""
	})
	if st := statusOf(s.Server, "app"); st.Error != "" || st.Generation != 2 {
		t.Fatalf("got status %+v, want generation 2 without error", st)
	}
}

func statusOf(s *Server, project string) Status {
	for _, st := range s.Statuses() {
		if st.Project == project {
			return st
		}
	}
	return Status{}
}

func TestReloadDescriptorAddedAndDeleted(t *testing.T) {
	root, s := reloadRoot(t)
	wstest.WriteFiles(t, root, map[string]string{
		"app/w.websocket": `{"handler": "app/w", "endpoint": "w"}`,
		"app/w.js": `
import { websockets } from "sdk/net";
export function onMessage(m, conn) { conn.data.name = m; return "hi " + m; }
export function onClose(conn, code, reason) {
	if (conn.data.name) websockets.broadcast("v", "closed " + conn.data.name + " " + code + " " + reason);
}`,
	})
	wstest.Eventually(t, func() string {
		probe, resp, err := websocket.DefaultDialer.Dial(s.url("w"), nil)
		if err != nil {
			return fmt.Sprintf("new endpoint w not served: %v %v", err, resp)
		}
		probe.Close()
		return ""
	})
	c := s.dial(t, "w")
	if got := c.Ask("ann"); got != "hi ann" {
		t.Fatalf("got %q, want hi ann", got)
	}
	other := s.dial(t, "v")
	if err := os.Remove(filepath.Join(root, "app", "w.websocket")); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.ExpectClose(); code != websocket.CloseGoingAway {
		t.Fatalf("got close code %d for a deleted endpoint, want 1001", code)
	}
	// The removed endpoint's onClose ran in the code that had it, with its data (and
	// once: a second run would broadcast before the reply to "still" below).
	other.Expect("closed ann 1001 endpoint removed")
	if _, resp, err := websocket.DefaultDialer.Dial(s.url("w"), nil); err == nil || resp.StatusCode != http.StatusNotFound {
		t.Fatalf("upgrade to deleted endpoint: got %v, want 404", err)
	}
	if got := other.Ask("still"); !strings.HasSuffix(got, ":still") {
		t.Fatalf("got %q, the project's other endpoint must keep serving", got)
	}
}

func TestReloadProjectAddedAndRemoved(t *testing.T) {
	root, s := reloadRoot(t)
	wstest.WriteFiles(t, root, map[string]string{
		"late/l.websocket": `{"handler": "late/l", "endpoint": "l"}`,
		"late/l.js":        `export const onMessage = (m) => "late " + m;`,
	})
	var c *wstest.Client
	wstest.Eventually(t, func() string {
		var err error
		if c, _, err = wstest.TryDial(t, s.url("l"), nil, nil); err != nil {
			return "added project never served: " + err.Error()
		}
		return ""
	})
	if got := c.Ask("hi"); got != "late hi" {
		t.Fatalf("got %q, want late hi", got)
	}
	if err := os.RemoveAll(filepath.Join(root, "late")); err != nil {
		t.Fatal(err)
	}
	if code, _ := c.ExpectClose(); code != websocket.CloseGoingAway {
		t.Fatalf("got close code %d for a removed project, want 1001", code)
	}
	e := s.dial(t, "e")
	if got := e.Ask("ok"); got != "ok" {
		t.Fatalf("got %q, other project must keep serving", got)
	}
}

func TestReloadTimersOfOldGenerationStop(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/t.websocket": `{"handler": "app/t", "endpoint": "t"}`,
		"app/t.js": `
import { websockets } from "sdk/net";
setInterval(() => websockets.broadcast("t", "tick-one"), 20);
export function onMessage(m) { return m; }`,
	})
	s := start(t, root, nil)
	c := s.dial(t, "t")
	c.Expect("tick-one")
	wstest.WriteFiles(t, root, map[string]string{"app/t.js": `export function onMessage(m) { return "two " + m; }`})
	wstest.Eventually(t, func() string {
		c.Send("x")
		for {
			_, got := c.Read()
			if got == "two x" {
				return ""
			}
			if got != "tick-one" {
				return "unexpected " + got
			}
		}
	})
	// After the swap, no more ticks may arrive from the retired generation.
	c.Send("y")
	for {
		_, got := c.Read()
		if got == "two y" {
			break
		}
		if got == "tick-one" {
			continue // sent before the old generation stopped, ahead of our message
		}
		t.Fatalf("got %q", got)
	}
	c.WS.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
	if _, data, err := c.WS.ReadMessage(); err == nil {
		t.Fatalf("got %q after the reload: the old generation's timer is still running", data)
	}
}

func TestRapidReloadsDoNotLeak(t *testing.T) {
	root, s := reloadRoot(t)
	c := s.dial(t, "v")
	c.Ask("warm")
	base := runtime.NumGoroutine()
	// 200 rapid edits through the watcher (it coalesces bursts), then 200 direct
	// reloads, one generation each.
	for i := 0; i < 200; i++ {
		wstest.WriteFiles(t, root, map[string]string{"app/v.js": fmt.Sprintf(versionHandler, fmt.Sprint("edit", i))})
		time.Sleep(time.Millisecond)
	}
	wstest.Eventually(t, func() string {
		if got := c.Ask("x"); !strings.HasPrefix(got, "edit199:") {
			return "the last edit never took effect; last reply " + got
		}
		return ""
	})
	for i := 0; i < 200; i++ {
		wstest.WriteFiles(t, root, map[string]string{"app/v.js": fmt.Sprintf(versionHandler, fmt.Sprint("gen", i))})
		if err := s.LoadProject("app"); err != nil {
			t.Fatal(err)
		}
	}
	if got := c.Ask("end"); !strings.HasPrefix(got, "gen199:") {
		t.Fatalf("got %q, want the last generation's reply", got)
	}
	wstest.Eventually(t, func() string {
		if n := runtime.NumGoroutine(); n > base+5 {
			return fmt.Sprintf("got %d goroutines after 200 reloads, started with %d", n, base)
		}
		return ""
	})
	if n := s.opts.Sessions.Len(); n != 1 {
		t.Fatalf("got %d tracked sessions, want 1 (the open connection)", n)
	}
}

func TestAdminAPI(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/v.websocket": `{"handler": "app/v", "endpoint": "v"}`,
		"app/v.js":        fmt.Sprintf(versionHandler, "one"),
	})
	off := start(t, root, nil)
	if resp := adminDo(t, off, "GET", "/admin/projects", ""); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("admin API without token: got %d, want 404", resp.StatusCode)
	}
	const token = "0123456789abcdef-token"
	s := start(t, root, func(c *config.Config) {
		c.Admin.Token = token
		c.Projects.Watch = false
	})
	for _, tc := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/admin/projects", "", http.StatusUnauthorized},
		{"GET", "/admin/projects", "wrong-token-wrong-token", http.StatusUnauthorized},
		{"GET", "/admin/projects", token, http.StatusOK},
		{"POST", "/admin/projects", token, http.StatusMethodNotAllowed},
		{"GET", "/admin/reload", token, http.StatusMethodNotAllowed},
		{"POST", "/admin/reload?project=../x", token, http.StatusBadRequest},
		{"POST", "/admin/reload?project=nope", token, http.StatusNotFound},
		{"POST", "/admin/reload?project=app", token, http.StatusOK},
		{"GET", "/admin/nope", token, http.StatusNotFound},
	} {
		if resp := adminDo(t, s, tc.method, tc.path, tc.token); resp.StatusCode != tc.want {
			t.Errorf("%s %s: got %d, want %d", tc.method, tc.path, resp.StatusCode, tc.want)
		}
	}
	c := s.dial(t, "v")
	wstest.WriteFiles(t, root, map[string]string{"app/v.js": "export function onMessage( {"})
	time.Sleep(0) // no watcher here: nothing changes until the admin asks
	if got := c.Ask("a"); got != "one:1:a" {
		t.Fatalf("got %q with watching off, want the old handler", got)
	}
	resp := adminDo(t, s, "POST", "/admin/reload?project=app", token)
	var statuses []Status
	json.NewDecoder(resp.Body).Decode(&statuses)
	if resp.StatusCode != http.StatusUnprocessableEntity || len(statuses) != 1 || !strings.Contains(statuses[0].Error, "v.js:1:") {
		t.Fatalf("reload of a broken project: got %d %+v, want 422 with the error position", resp.StatusCode, statuses)
	}
	wstest.WriteFiles(t, root, map[string]string{"app/v.js": fmt.Sprintf(versionHandler, "admin")})
	if resp := adminDo(t, s, "POST", "/admin/reload", token); resp.StatusCode != http.StatusOK {
		t.Fatalf("reload all: got %d, want 200", resp.StatusCode)
	}
	if got := c.Ask("b"); got != "admin:2:b" {
		t.Fatalf("got %q after the admin reload, want admin:2:b", got)
	}
}

func adminDo(t *testing.T, s *testServer, method, path, token string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.addr+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// Module top-level code re-arms timers for the connections already open (README,
// Hot reload). While the new code loads, the old one keeps serving them with their
// data; the new code's closures see the data once it takes over.
func TestReloadTopLevelSeesOpenConnections(t *testing.T) {
	const handler = `
import { websockets } from "sdk/net";
const version = %q;
for (const conn of websockets.getConnections("t")) {
	setTimeout(() => conn.send(version + " timer " + conn.data.name), 50);
}
const until = Date.now() + %d; // a slow load: the old code serves meanwhile
while (Date.now() < until) {}
export function onMessage(m, conn) {
	if (m.startsWith("name ")) conn.data.name = m.slice(5);
	return version + ":" + conn.data.name;
}`
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/t.websocket": `{"handler": "app/t", "endpoint": "t"}`,
		"app/t.js":        fmt.Sprintf(handler, "one", 0),
	})
	s := start(t, root, nil)
	c := s.dial(t, "t")
	if got := c.Ask("name ann"); got != "one:ann" {
		t.Fatalf("got %q, want one:ann", got)
	}
	wstest.WriteFiles(t, root, map[string]string{"app/t.js": fmt.Sprintf(handler, "two", 400)})
	var newReply, timer bool
	for end := time.Now().Add(5 * time.Second); !newReply || !timer; {
		if time.Now().After(end) {
			t.Fatalf("after 5s: new code's reply seen %v, its timer seen %v; want both", newReply, timer)
		}
		c.Send("x")
		switch got := c.ReadText(); got {
		case "one:ann":
		case "two:ann":
			newReply = true
		case "two timer ann":
			timer = true
		default:
			t.Fatalf("got %q, want one:ann, two:ann or two timer ann (the data kept throughout)", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A handler still awaiting something when its project is reloaded answers from the
// old code (within the time limit); new events run the new code meanwhile.
func TestReloadLetsAwaitingHandlersAnswer(t *testing.T) {
	const handler = `
import { websockets } from "sdk/net";
const version = %q;
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export async function onMessage(m, conn) {
	conn.send("started " + m);
	await wait(300);
	return version + ":" + m;
}
export async function onRequest() {
	websockets.broadcast("t", "request started");
	await wait(300);
	return version;
}`
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/t.websocket": `{"handler": "app/t", "endpoint": "t"}`,
		"app/t.http":      `{"handler": "app/t", "path": "/slow"}`,
		"app/t.js":        fmt.Sprintf(handler, "one"),
	})
	s := start(t, root, func(c *config.Config) { c.Projects.Watch = false })
	c := s.dial(t, "t")
	c.Send("a")
	c.Expect("started a")
	type answer struct {
		status int
		body   string
		err    error
	}
	answers := make(chan answer, 1)
	go func() {
		resp, err := http.Get("http://" + s.addr + "/slow")
		if err != nil {
			answers <- answer{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		answers <- answer{resp.StatusCode, string(b), err}
	}()
	c.Expect("request started")
	wstest.WriteFiles(t, root, map[string]string{"app/t.js": fmt.Sprintf(handler, "two")})
	if err := s.LoadProject("app"); err != nil {
		t.Fatal(err)
	}
	c.Send("b") // runs the new code at once, beside the old code's pending reply
	c.Expect("started b")
	c.Expect("one:a")
	c.Expect("two:b")
	select {
	case a := <-answers:
		if a.err != nil || a.status != http.StatusOK || a.body != "one" {
			t.Fatalf("got %d %q (%v), want 200 one from the old code", a.status, a.body, a.err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the request never got an answer")
	}
}

// A project refused because it claims an endpoint another project serves loads as
// soon as the other project gives the endpoint up.
func TestReloadRetriesProjectRefusedForConflict(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"c1/shared.websocket": `{"handler": "c1/h", "endpoint": "shared"}`,
		"c1/h.js":             `export const onMessage = (m) => "c1 " + m;`,
		"c2/shared.websocket": `{"handler": "c2/h", "endpoint": "shared"}`,
		"c2/h.js":             `export const onMessage = (m) => "c2 " + m;`,
	})
	s := start(t, root, func(c *config.Config) { c.Projects.Watch = false })
	if st := statusOf(s.Server, "c2"); !strings.Contains(st.Error, "shared") {
		t.Fatalf("c2: got status %+v, want the conflict over endpoint shared", st)
	}
	if got := s.dial(t, "shared").Ask("x"); got != "c1 x" {
		t.Fatalf("got %q, want c1's reply", got)
	}
	if err := os.RemoveAll(filepath.Join(root, "c1")); err != nil {
		t.Fatal(err)
	}
	if err := s.LoadProject("c1"); err != nil {
		t.Fatal(err)
	}
	if st := statusOf(s.Server, "c2"); st.Error != "" || st.Generation != 1 {
		t.Fatalf("c2 after c1 was removed: got status %+v, want loaded", st)
	}
	if got := s.dial(t, "shared").Ask("y"); got != "c2 y" {
		t.Fatalf("got %q, want c2's reply", got)
	}
}

// The drain covers every event, not only replies: an async onOpen awaiting something
// when its project reloads still finishes in the old code.
func TestReloadLetsAsyncOnOpenFinish(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/t.websocket": `{"handler": "app/t", "endpoint": "t"}`,
		"app/t.js": `
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
export async function onOpen(conn) { conn.send("opening"); await wait(300); conn.send("welcome"); }
export function onMessage(m) { return "echo " + m; }`,
	})
	s := start(t, root, func(c *config.Config) { c.Projects.Watch = false })
	c := s.dial(t, "t")
	c.Expect("opening") // the old code's onOpen is awaiting
	if err := s.LoadProject("app"); err != nil {
		t.Fatal(err)
	}
	c.Expect("welcome")
}

// With several workers, code of the new generation that runs before the swap
// (worker 0's timers while worker 1 still loads) never takes a connection from the
// generation serving it: no event loses conn.data.
func TestReloadMultiWorkerLoadWindow(t *testing.T) {
	const handler = `
import { websockets } from "sdk/net";
const version = %q;
setTimeout(() => { for (const c of websockets.getConnections("t")) { void c.data; } }, 0);
const until = Date.now() + %d;
while (Date.now() < until) {}
export function onMessage(m, conn) {
	conn.data.n = (conn.data.n || 0) + 1;
	return version + ":" + conn.data.n;
}`
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/t.websocket": `{"handler": "app/t", "endpoint": "t"}`,
		"app/t.js":        fmt.Sprintf(handler, "one", 0),
	})
	s := start(t, root, func(c *config.Config) { c.Runtime.Workers = 2; c.Projects.Watch = false })
	clients := []*wstest.Client{s.dial(t, "t"), s.dial(t, "t")}
	counts := []int{0, 0}
	ask := func() {
		for i, c := range clients {
			counts[i]++
			got := c.Ask("x")
			if _, n, _ := strings.Cut(got, ":"); n != fmt.Sprint(counts[i]) {
				t.Fatalf("client %d: got %q, want count %d (conn.data lost)", i, got, counts[i])
			}
		}
	}
	ask()
	wstest.WriteFiles(t, root, map[string]string{"app/t.js": fmt.Sprintf(handler, "two", 400)})
	done := make(chan error, 1)
	go func() { done <- s.LoadProject("app") }()
	for loaded := false; !loaded; {
		ask()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
			loaded = true
		case <-time.After(10 * time.Millisecond):
		}
	}
	ask()
}
