package server

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
	sdknet "github.com/blimp/blimp/sdk/net"
)

// Outbound clients (websockets.createWebsocket), end to end: a real server runs the
// project below; the test drives it through the "ctl" endpoint, whose handler runs
// each message as a function body (with websockets and conn in scope) and answers
// "= " and the result. The client handler app/client reports every client event to
// the ctl connection, so the test sees them in order. Remotes are blimp's own echo
// endpoint or an independent gorilla server (httptest).

var clientProject = map[string]string{
	"app/ctl.websocket": `{"handler": "app/ctl", "endpoint": "ctl"}`,
	"app/ctl.js": `
import { websockets } from "sdk/net";
export function onMessage(code, conn) {
  const r = new Function("websockets", "conn", code)(websockets, conn);
  return "= " + (typeof r === "string" ? r : JSON.stringify(r));
}`,
	"app/echo.websocket": `{"handler": "app/echo", "endpoint": "echo"}`,
	"app/echo.js":        `export function onMessage(m) { return m; }`,
	"app/client.js": `
import { websockets } from "sdk/net";
// A WebsocketClient is the connection argument of every event.
const report = (s) => websockets.broadcast("ctl", s);
export function onOpen(client) {
  report("open " + client.id + " " + websockets.getMethod() + " " + (client === websockets.getClient(client.id)));
}
export function onMessage(message, client) {
  const text = message instanceof ArrayBuffer ? "binary:" + new Uint8Array(message).join(",") : message;
  report("message " + client.id + " " + text);
  if (typeof message === "string" && message.startsWith("ask:")) return "answer:" + message.slice(4);
  if (message === "throw") throw new Error("thrown by onMessage");
}
export function onError(error, client) {
  report("error " + client.id + " " + error + (websockets.getError() === error ? "" : " (getError differs)"));
}
export function onClose(client, code, reason) {
  report("close " + client.id + " " + code + " [" + reason + "]" + (websockets.getClient(client.id) === null ? "" : " (still listed)"));
}`,
}

// clientInfo is one entry of getClients().
type clientInfo struct {
	ID       string  `json:"id"`
	URI      string  `json:"uri"`
	Handler  string  `json:"handler"`
	State    string  `json:"state"`
	OpenedAt *int64  `json:"openedAt"`
	Extra    *string `json:"extra"` // must stay absent
}

// harness is a server running clientProject (plus files) and a ctl connection.
type harness struct {
	t       *testing.T
	s       *testServer
	root    string
	ctl     *wstest.Client
	reports []string // reports read while waiting for a reply
}

func startHarness(t *testing.T, files map[string]string, tune func(*config.Config)) *harness {
	t.Helper()
	root := t.TempDir()
	wstest.WriteFiles(t, root, clientProject)
	wstest.WriteFiles(t, root, files)
	s := start(t, root, tune)
	h := &harness{t: t, s: s, root: root}
	h.ctl = s.dial(t, "ctl")
	s.waitConns(t, "ctl", 1)
	return h
}

// eval runs js on the server (as the body of a function) and returns its result.
func (h *harness) eval(js string) string {
	h.t.Helper()
	h.ctl.Send(js)
	for {
		_, m := h.ctl.Read()
		if r, ok := strings.CutPrefix(m, "= "); ok {
			return r
		}
		h.reports = append(h.reports, m)
	}
}

// next returns the next client event report.
func (h *harness) next() string {
	h.t.Helper()
	if len(h.reports) > 0 {
		r := h.reports[0]
		h.reports = h.reports[1:]
		return r
	}
	_, m := h.ctl.Read()
	if strings.HasPrefix(m, "= ") {
		h.t.Fatalf("got reply %q, want a client event report", m)
	}
	return m
}

// expect checks the next reports, in order.
func (h *harness) expect(want ...string) {
	h.t.Helper()
	for _, w := range want {
		if got := h.next(); got != w {
			h.t.Fatalf("got report %q, want %q", got, w)
		}
	}
}

// expectPrefix checks that the next report starts with prefix and contains every
// one of substrs, and returns it.
func (h *harness) expectPrefix(prefix string, substrs ...string) string {
	h.t.Helper()
	got := h.next()
	if !strings.HasPrefix(got, prefix) || !wstest.ContainsAll(got, substrs...) {
		h.t.Fatalf("got report %q, want one starting with %q and containing %q", got, prefix, substrs)
	}
	return got
}

// clients returns getClients().
func (h *harness) clients() []clientInfo {
	h.t.Helper()
	var out []clientInfo
	if err := json.Unmarshal([]byte(h.eval(`return websockets.getClients();`)), &out); err != nil {
		h.t.Fatal(err)
	}
	return out
}

// create runs createWebsocket(uri, handler) and returns the client id.
func (h *harness) create(uri, handler string) string {
	h.t.Helper()
	return h.eval(fmt.Sprintf(`return websockets.createWebsocket(%q, %q).id;`, uri, handler))
}

// remote is an independent WebSocket server for clients to connect to.
type remote struct {
	srv   *httptest.Server
	uri   string
	conns chan *websocket.Conn
}

// newRemote starts a gorilla server that answers every request with status reject
// (0: upgrades, after delay), over TLS with tlsOn.
func newRemote(t *testing.T, tlsOn bool, reject int, delay time.Duration) *remote {
	t.Helper()
	r := &remote{conns: make(chan *websocket.Conn, 100)}
	var up websocket.Upgrader
	handler := http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if reject != 0 {
			http.Error(w, "go away", reject)
			return
		}
		time.Sleep(delay)
		ws, err := up.Upgrade(w, req, nil)
		if err != nil {
			return
		}
		t.Cleanup(func() { ws.Close() })
		r.conns <- ws
	})
	if tlsOn {
		r.srv = httptest.NewTLSServer(handler)
	} else {
		r.srv = httptest.NewServer(handler)
	}
	t.Cleanup(r.srv.Close)
	r.uri = "ws" + strings.TrimPrefix(r.srv.URL, "http") + "/remote"
	return r
}

// accept returns the next connection a client made.
func (r *remote) accept(t *testing.T) *websocket.Conn {
	t.Helper()
	select {
	case ws := <-r.conns:
		return ws
	case <-time.After(5 * time.Second):
		t.Fatal("no client connected to the remote")
		return nil
	}
}

// echo echoes every message of ws until it closes.
func echo(ws *websocket.Conn) {
	for {
		kind, data, err := ws.ReadMessage()
		if err != nil {
			return
		}
		if ws.WriteMessage(kind, data) != nil {
			return
		}
	}
}

// readText reads the next message of a remote connection.
func readText(t *testing.T, ws *websocket.Conn) string {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	kind, data, err := ws.ReadMessage()
	if err != nil {
		t.Fatalf("remote read: %v", err)
	}
	if kind != websocket.TextMessage {
		return fmt.Sprintf("binary:%v", data)
	}
	return string(data)
}

// readClose reads until the client closes and returns the close code and reason.
func readClose(t *testing.T, ws *websocket.Conn) (int, string) {
	t.Helper()
	ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := ws.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code, ce.Text
		}
		t.Fatalf("remote read ended with %v, want a close frame", err)
	}
}

func TestClientToEndpoint(t *testing.T) {
	h := startHarness(t, nil, nil)
	before := time.Now().UnixMilli()
	got := h.eval(`
const c = websockets.createWebsocket("ws://" + conn.headers.host + "/websockets/v4/service/echo", "app/client");
globalThis.created = c;
c.send("one");
c.send("two");
return [c.id, c.uri, c.handler, c.state, String(c.openedAt), String(c)].join(" ");`)
	f := strings.Fields(got)
	if len(f) != 6 {
		t.Fatalf("got %q, want id, uri, handler, state, openedAt and toString", got)
	}
	id := f[0]
	uri := "ws://" + h.s.addr + ServicePath + "echo"
	if f[1] != uri || f[2] != "app/client" || f[3] != "connecting" || f[4] != "null" || f[5] != id {
		t.Fatalf("got %q, want %s %s app/client connecting null %s", got, id, uri, id)
	}
	// Messages sent before open go out, in order, once it opens; the echo comes back.
	h.expect("open "+id+" onopen true", "message "+id+" one", "message "+id+" two")

	list := h.clients()
	if len(list) != 1 || list[0].ID != id || list[0].URI != uri || list[0].Handler != "app/client" || list[0].State != "open" || list[0].OpenedAt == nil || *list[0].OpenedAt < before {
		t.Fatalf("getClients() = %+v, want one open client %s with openedAt >= %d", list, id, before)
	}
	if got := h.eval(`return websockets.getClients()[0].extra === undefined && Object.keys(websockets.getClients()[0]).join(",");`); got != "id,uri,handler,state,openedAt" {
		t.Fatalf("getClients() entry keys = %q, want id,uri,handler,state,openedAt", got)
	}
	// The blimp endpoint sees the client as one of its connections.
	if n := h.s.Hub().Count("echo"); n != 1 {
		t.Fatalf("echo endpoint has %d connections, want 1", n)
	}
	for _, tc := range []struct{ js, want string }{
		{`return websockets.getClient("` + id + `") === globalThis.created;`, "true"},
		{`return websockets.getClient(globalThis.created) === globalThis.created;`, "true"},
		{`return websockets.getClientByHandler("app/client") === globalThis.created;`, "true"},
		{`return websockets.getClientByHandler("app/client.js") === globalThis.created;`, "true"},
		{`return websockets.getClientByHandler("app/echo");`, "null"},
		{`return websockets.getClient("nope");`, "null"},
		{`return websockets.getClient("` + id + `").send("three");`, "true"},
	} {
		if got := h.eval(tc.js); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.js, got, tc.want)
		}
	}
	h.expect("message " + id + " three")

	// Close from JS: the client leaves the list; onClose reports the code sent.
	if got := h.eval(`websockets.getClientByHandler("app/client").close(); return globalThis.created.state;`); got != "closing" {
		t.Fatalf("state after close() = %q, want closing", got)
	}
	h.expect("close " + id + " 1000 []")
	for _, tc := range []struct{ js, want string }{
		{`return websockets.getClients();`, "[]"},
		{`return websockets.getClient("` + id + `");`, "null"},
		{`return websockets.getClientByHandler("app/client");`, "null"},
		{`return globalThis.created.state + " " + globalThis.created.send("late");`, "closed false"},
	} {
		if got := h.eval(tc.js); got != tc.want {
			t.Errorf("%s: got %s, want %s", tc.js, got, tc.want)
		}
	}
	h.s.waitConns(t, "echo", 0)
}

func TestClientSendBeforeOpenKeepsOrder(t *testing.T) {
	h := startHarness(t, nil, nil)
	r := newRemote(t, false, 0, 300*time.Millisecond) // the upgrade waits: sends happen while connecting
	got := h.eval(fmt.Sprintf(`
const c = websockets.createWebsocket(%q, "app/client", "javascript");
globalThis.c = c;
for (let i = 1; i <= 3; i++) c.send("m" + i);
return c.state;`, r.uri))
	if got != "connecting" {
		t.Fatalf("state = %q, want connecting", got)
	}
	got = h.eval(`
globalThis.c.send(new Uint8Array([1, 2, 3]));
globalThis.c.send({n: 4});
return globalThis.c.state;`)
	if got != "connecting" {
		t.Fatalf("state on the second call = %q, want connecting (make the remote slower)", got)
	}
	ws := r.accept(t)
	for _, want := range []string{"m1", "m2", "m3", "binary:[1 2 3]", `{"n":4}`} {
		if got := readText(t, ws); got != want {
			t.Fatalf("remote got %q, want %q", got, want)
		}
	}
	h.expectPrefix("open ")
}

// The seed's client code as written: create, send, then close at once. The
// message goes out before the close frame, and the echo still arrives.
func TestClientSeedCloseRightAfterSend(t *testing.T) {
	h := startHarness(t, nil, nil)
	r := newRemote(t, false, 0, 0)
	id := h.eval(fmt.Sprintf(`
const handler = "app/client";
let websocket = websockets.createWebsocket(%q, handler);
websocket.send("hello");
websockets.getClientByHandler(handler).close();
return websocket.id;`, r.uri))
	ws := r.accept(t)
	go echo(ws)
	h.expect("open "+id+" onopen true", "message "+id+" hello", "close "+id+" 1000 []")
}

func TestClientToIndependentServer(t *testing.T) {
	h := startHarness(t, nil, nil)
	r := newRemote(t, false, 0, 0)
	id := h.create(r.uri, "app/client")
	ws := r.accept(t)
	h.expect("open " + id + " onopen true")

	ws.WriteMessage(websocket.TextMessage, []byte("hello"))
	h.expect("message " + id + " hello")
	ws.WriteMessage(websocket.BinaryMessage, []byte{7, 8})
	h.expect("message " + id + " binary:7,8")
	// onMessage's return value goes back to the remote.
	ws.WriteMessage(websocket.TextMessage, []byte("ask:42"))
	h.expect("message " + id + " ask:42")
	if got := readText(t, ws); got != "answer:42" {
		t.Fatalf("remote got %q, want the reply answer:42", got)
	}
	// A throwing onMessage reaches onError with the client.
	ws.WriteMessage(websocket.TextMessage, []byte("throw"))
	h.expect("message " + id + " throw")
	h.expectPrefix("error "+id+" ", "Error: thrown by onMessage")
	h.s.log.WaitForLine(t, "script error", "client="+id, "thrown by onMessage")

	// Close from JS with a code and reason: the remote sees them.
	h.eval(`websockets.getClient("` + id + `").close(4001, "done"); return "";`)
	if code, reason := readClose(t, ws); code != 4001 || reason != "done" {
		t.Fatalf("remote got close %d %q, want 4001 done", code, reason)
	}
	h.expect("close " + id + " 4001 [done]")
	if got := h.eval(`try { websockets.createWebsocket("` + r.uri + `", "app/client").close(1001); } catch (e) { return e.message; }`); !strings.Contains(got, "code 1001 is not allowed") {
		t.Fatalf("close(1001) from JS: got %q, want an error saying the code is not allowed", got)
	}
}

func TestClientClosedByRemote(t *testing.T) {
	h := startHarness(t, nil, nil)
	r := newRemote(t, false, 0, 0)
	for _, tc := range []struct {
		name  string
		close func(ws *websocket.Conn)
		want  []string // after "<event> <id> "
	}{
		{"close frame", func(ws *websocket.Conn) {
			ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(4002, "bye"), time.Now().Add(time.Second))
		}, []string{"close 4002 [bye]"}},
		{"dropped TCP connection", func(ws *websocket.Conn) { ws.NetConn().Close() },
			[]string{"error connection to " + r.uri + " lost: unexpected EOF", "close 1006 []"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.ctl = h.ctl.On(t)
			id := h.create(r.uri, "app/client")
			ws := r.accept(t)
			h.expect("open " + id + " onopen true")
			tc.close(ws)
			for _, w := range tc.want {
				event, rest, _ := strings.Cut(w, " ")
				h.expect(event + " " + id + " " + rest)
			}
			if got := h.eval(`return websockets.getClients();`); got != "[]" {
				t.Fatalf("getClients() after the remote closed = %s, want []", got)
			}
		})
	}
}

func TestClientConnectionFailures(t *testing.T) {
	h := startHarness(t, nil, nil)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "ws://" + l.Addr().String() + "/"
	l.Close()
	forbidden := newRemote(t, false, http.StatusForbidden, 0)
	for _, tc := range []struct {
		name, uri string
		want      []string
	}{
		{"connection refused", refused, []string{"connecting to " + refused + " failed", "connection refused"}},
		{"handshake 403", forbidden.uri, []string{"connecting to " + forbidden.uri + " failed", "HTTP 403 Forbidden", "(go away)"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h.t = t
			h.ctl = h.ctl.On(t)
			got := h.eval(fmt.Sprintf(`const c = websockets.createWebsocket(%q, "app/client"); return c.id + " " + websockets.getClients()[0].state;`, tc.uri))
			id, state, _ := strings.Cut(got, " ")
			if state != "connecting" {
				t.Fatalf("state right after createWebsocket = %q, want connecting", state)
			}
			h.expectPrefix("error "+id+" ", tc.want...)
			h.expect("close " + id + " 1006 []")
			if got := h.eval(`return websockets.getClients();`); got != "[]" {
				t.Fatalf("getClients() after a failed connection = %s, want []", got)
			}
		})
	}
}

func TestClientTLSWithConfiguredCA(t *testing.T) {
	r := newRemote(t, true, 0, 0)
	uri := r.uri
	if !strings.HasPrefix(uri, "wss://") {
		t.Fatalf("remote URI %s, want wss://", uri)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: r.srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}

	t.Run("untrusted without ca_file", func(t *testing.T) {
		h := startHarness(t, nil, nil)
		id := h.create(uri, "app/client")
		h.expectPrefix("error "+id+" ", "connecting to "+uri+" failed", "certificate", "clients.ca_file")
		h.expect("close " + id + " 1006 []")
	})
	t.Run("trusted through ca_file", func(t *testing.T) {
		h := startHarness(t, nil, func(cfg *config.Config) { cfg.Clients.CAFile = caFile })
		id := h.create(uri, "app/client")
		ws := r.accept(t)
		go echo(ws)
		h.expect("open " + id + " onopen true")
		h.eval(`websockets.getClient("` + id + `").send("over tls"); return "";`)
		h.expect("message " + id + " over tls")
	})
}

func TestManyClients(t *testing.T) {
	const n = 50
	h := startHarness(t, nil, nil)
	r := newRemote(t, false, 0, 0)
	go func() {
		for ws := range r.conns {
			go echo(ws)
		}
	}()
	ids := strings.Fields(h.eval(fmt.Sprintf(`
const ids = [];
for (let i = 0; i < %d; i++) {
  const c = websockets.createWebsocket(%q, "app/client");
  c.send("hi " + i);
  ids.push(c.id);
}
return ids.join(" ");`, n, r.uri)))
	if len(ids) != n {
		t.Fatalf("created %d clients, want %d", len(ids), n)
	}
	// Each client's events come in order: open, then its echo.
	seen := map[string][]string{}
	for i := 0; i < 2*n; i++ {
		f := strings.Fields(h.next())
		seen[f[1]] = append(seen[f[1]], f[0])
	}
	for _, id := range ids {
		if got := strings.Join(seen[id], ","); got != "open,message" {
			t.Fatalf("client %s: got events %s, want open,message", id, got)
		}
	}
	list := h.clients()
	if len(list) != n {
		t.Fatalf("getClients() has %d entries, want %d", len(list), n)
	}
	for i, c := range list {
		if c.ID != ids[i] || c.State != "open" {
			t.Fatalf("getClients()[%d] = %+v, want client %s open (creation order)", i, c, ids[i])
		}
	}
	h.eval(`websockets.getClients().forEach((m) => websockets.getClient(m.id).close()); return "";`)
	var closed []string
	for i := 0; i < n; i++ {
		closed = append(closed, strings.Fields(h.expectPrefix("close ", "1000 []"))[1])
	}
	sort.Strings(closed)
	sort.Strings(ids)
	if strings.Join(closed, " ") != strings.Join(ids, " ") {
		t.Fatalf("closed %v, want every client", closed)
	}
	if got := h.eval(`return websockets.getClients();`); got != "[]" {
		t.Fatalf("getClients() after closing all = %s, want []", got)
	}
}

func TestClientLookupsByHandler(t *testing.T) {
	h := startHarness(t, map[string]string{"app/other.js": `export { onOpen, onClose } from "./client";`}, nil)
	r := newRemote(t, false, 0, 0)
	older := h.create(r.uri, "app/client")
	newer := h.create(r.uri, "app/client")
	other := h.create(r.uri, "app/other")
	for i := 0; i < 3; i++ {
		go echo(r.accept(t)) // reading, so that it answers close frames
	}
	opens := []string{h.next(), h.next(), h.next()} // the clients connect concurrently
	sort.Strings(opens)
	want := []string{"open " + older + " onopen true", "open " + newer + " onopen true", "open " + other + " onopen true"}
	sort.Strings(want)
	if strings.Join(opens, "|") != strings.Join(want, "|") {
		t.Fatalf("got reports %q, want %q", opens, want)
	}
	byHandler := func(handler string) string {
		return h.eval(fmt.Sprintf(`const c = websockets.getClientByHandler(%q); return c && c.id;`, handler))
	}
	if got := byHandler("app/client"); got != newer {
		t.Fatalf("getClientByHandler(app/client) = %s, want the newest %s", got, newer)
	}
	if got := byHandler("app/other"); got != other {
		t.Fatalf("getClientByHandler(app/other) = %s, want %s", got, other)
	}
	if got := byHandler("app/none"); got != "null" {
		t.Fatalf("getClientByHandler(app/none) = %s, want null", got)
	}
	h.eval(`websockets.getClient("` + newer + `").close(); return "";`)
	h.expect("close " + newer + " 1000 []")
	if got := byHandler("app/client"); got != older {
		t.Fatalf("getClientByHandler(app/client) after closing the newest = %s, want %s", got, older)
	}
	h.eval(`websockets.getClient("` + older + `").close(); return "";`)
	h.expect("close " + older + " 1000 []")
	if got := byHandler("app/client"); got != "null" {
		t.Fatalf("getClientByHandler(app/client) after closing both = %s, want null", got)
	}
}

func TestClientsArePerProject(t *testing.T) {
	h := startHarness(t, map[string]string{
		"other/ctl2.websocket": `{"handler": "other/ctl2", "endpoint": "ctl2"}`,
		"other/ctl2.js": `
import { websockets } from "sdk/net";
export function onMessage(code) { return JSON.stringify(new Function("websockets", code)(websockets)); }`,
	}, nil)
	r := newRemote(t, false, 0, 0)
	id := h.create(r.uri, "app/client")
	r.accept(t)
	h.expect("open " + id + " onopen true")
	other := h.s.dial(t, "ctl2")
	for _, tc := range []struct{ js, want string }{
		{`return websockets.getClients();`, "[]"},
		{`return websockets.getClient("` + id + `");`, "null"},
		{`return websockets.getClientByHandler("app/client");`, "null"},
		{`try { websockets.createWebsocket("ws://x", "app/client"); } catch (e) { return e.message; }`, `"createWebsocket: handler \"app/client\" is outside project \"other\": handler paths start with the project folder, like \"other/handler\""`},
	} {
		other.Send(tc.js)
		if _, got := other.Read(); got != tc.want {
			t.Errorf("project other: %s: got %s, want %s", tc.js, got, tc.want)
		}
	}
	if list := h.clients(); len(list) != 1 || list[0].ID != id {
		t.Fatalf("project app: getClients() = %+v, want its client %s", list, id)
	}
}

func TestReloadClosesClients(t *testing.T) {
	h := startHarness(t, nil, nil)
	r := newRemote(t, false, 0, 0)
	id := h.create(r.uri, "app/client")
	ws := r.accept(t)
	h.expect("open " + id + " onopen true")

	// Any change to the project reloads it: its clients are closed with 1001 and the
	// old generation's handler gets onClose; nothing re-creates them.
	wstest.WriteFiles(t, h.root, map[string]string{"app/echo.js": `export function onMessage(m) { return "v2:" + m; }`})
	if code, reason := readClose(t, ws); code != websocket.CloseGoingAway || reason != sdknet.RetireReason {
		t.Fatalf("remote got close %d %q, want 1001 %q", code, reason, sdknet.RetireReason)
	}
	h.expect("close " + id + " 1001 [" + sdknet.RetireReason + "]")
	wstest.Eventually(t, func() string {
		if got := h.eval(`return websockets.getClients();`); got != "[]" {
			return "getClients() after the reload = " + got + ", want []"
		}
		return ""
	})
	select {
	case ws := <-r.conns:
		t.Fatalf("a client connected again after the reload (%s): clients are not re-created", ws.RemoteAddr())
	case <-time.After(200 * time.Millisecond):
	}
}

func TestClientScriptStyleHandler(t *testing.T) {
	h := startHarness(t, map[string]string{"app/script.js": `
import { websockets } from "sdk/net";
const report = (s) => websockets.broadcast("ctl", s);
if (websockets.isOnOpen()) report("script " + websockets.getMethod());
else if (websockets.isOnMessage()) report("script " + websockets.getMethod() + " " + websockets.getMessage());
else if (websockets.isOnError()) report("script " + websockets.getMethod() + " " + websockets.getError());
else if (websockets.isOnClose()) report("script " + websockets.getMethod());
`}, nil)
	r := newRemote(t, false, 0, 0)
	h.create(r.uri, "app/script")
	ws := r.accept(t)
	h.expect("script onopen")
	ws.WriteMessage(websocket.TextMessage, []byte("from remote"))
	h.expect("script onmessage from remote")
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(1000, ""), time.Now().Add(time.Second))
	h.expect("script onclose")

	h.create("ws://127.0.0.1:1/", "app/script")
	h.expectPrefix("script onerror connecting to ws://127.0.0.1:1/ failed")
	h.expect("script onclose")
}

func TestCreateWebsocketThrows(t *testing.T) {
	h := startHarness(t, map[string]string{
		"app/broken.js":       "export function onOpen( {",
		"outside/x.js":        `export function onOpen() {}`,
		"outside/x.websocket": `{"handler": "outside/x", "endpoint": "x"}`,
	}, nil)
	for _, tc := range []struct{ args, want string }{
		{`"http://example.com/", "app/client"`, `createWebsocket: uri "http://example.com/" is not a WebSocket URL: write ws://host[:port]/path or wss://host[:port]/path`},
		{`"ws://", "app/client"`, `uri "ws://" is not a WebSocket URL`},
		{`"not a url", "app/client"`, `uri "not a url" is not a WebSocket URL`},
		{`42, "app/client"`, `uri must be a string`},
		{`"ws://127.0.0.1:1/", "app/client", "graalvm"`, `createWebsocket: engine "graalvm" is not supported: blimp runs handlers as JavaScript; leave engine out or pass "javascript"`},
		{`"ws://127.0.0.1:1/"`, `handler must be a module path like "app/ws-handler"`},
		{`"ws://127.0.0.1:1/", "app/missing"`, `handler "app/missing": no such module`},
		{`"ws://127.0.0.1:1/", "outside/x"`, `handler "outside/x" is outside project "app"`},
		{`"ws://127.0.0.1:1/", "app/../outside/x"`, `must be a plain path inside project "app"`},
		{`"ws://127.0.0.1:1/", "/app/client"`, `must be relative to the projects root`},
		{`"ws://127.0.0.1:1/", "app/broken"`, `broken.js:1:`},
	} {
		got := h.eval(`try { websockets.createWebsocket(` + tc.args + `); return "no error"; } catch (e) { return e.message; }`)
		if !strings.Contains(got, tc.want) {
			t.Errorf("createWebsocket(%s): got %q, want an error containing %q", tc.args, got, tc.want)
		}
	}
	if got := h.eval(`return websockets.getClients();`); got != "[]" {
		t.Fatalf("getClients() after failed calls = %s, want []", got)
	}
	// engine "javascript" (any case) is accepted.
	h.eval(`websockets.createWebsocket("ws://127.0.0.1:1/", "app/client", "JavaScript"); return "";`)
	h.expectPrefix("error ", "connection refused")
}

// With several workers, a project's clients are one set: a connection pinned to
// another worker lists them and can send and close; the events still run on the
// worker that created the client.
func TestClientsAcrossWorkers(t *testing.T) {
	h := startHarness(t, map[string]string{
		"app/where.js": `globalThis.worker = globalThis.worker || Math.random().toString(36).slice(2); export {};`,
	}, func(cfg *config.Config) { cfg.Runtime.Workers = 4 })
	worker := func(h *harness) string { return h.eval(`require("./where"); return globalThis.worker;`) }
	home := worker(h)
	var other *harness
	for i := 0; i < 40 && other == nil; i++ {
		b := &harness{t: t, s: h.s, root: h.root, ctl: h.s.dial(t, "ctl")}
		if worker(b) != home {
			other = b
		}
	}
	if other == nil {
		t.Fatal("no ctl connection landed on another worker")
	}
	r := newRemote(t, false, 0, 0)
	id := h.create(r.uri, "app/client")
	ws := r.accept(t)
	h.expect("open " + id + " onopen true")

	if got := other.eval(`return websockets.getClients().map((c) => c.id + " " + c.state).join();`); got != id+" open" {
		t.Fatalf("getClients() on another worker = %q, want %q", got, id+" open")
	}
	got := other.eval(`const c = websockets.getClient("` + id + `"); return [c.uri, c.state, c.send("from elsewhere"), websockets.getClientByHandler("app/client").id].join(" ");`)
	if want := r.uri + " open true " + id; got != want {
		t.Fatalf("getClient on another worker: got %q, want %q", got, want)
	}
	if got := readText(t, ws); got != "from elsewhere" {
		t.Fatalf("remote got %q, want the message sent from the other worker", got)
	}
	other.eval(`websockets.getClient("` + id + `").close(4005, "elsewhere"); return "";`)
	if code, reason := readClose(t, ws); code != 4005 || reason != "elsewhere" {
		t.Fatalf("remote got close %d %q, want 4005 elsewhere", code, reason)
	}
	// onClose ran on the creating worker, whose client object it got.
	h.expect("close " + id + " 4005 [elsewhere]")
	if got := other.eval(`return websockets.getClients();`); got != "[]" {
		t.Fatalf("getClients() on another worker after the close = %s, want []", got)
	}
}

func TestClientLimits(t *testing.T) {
	h := startHarness(t, nil, func(cfg *config.Config) {
		cfg.Server.ReadLimit = 512 // the ctl snippets fit
		cfg.Server.QueueBytes = 1024
	})

	t.Run("oversize message from the remote", func(t *testing.T) {
		h.t, h.ctl = t, h.ctl.On(t)
		r := newRemote(t, false, 0, 0)
		id := h.create(r.uri, "app/client")
		ws := r.accept(t)
		h.expect("open " + id + " onopen true")
		ws.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 1000)))
		if code, _ := readClose(t, ws); code != websocket.CloseMessageTooBig {
			t.Fatalf("remote got close %d, want 1009", code)
		}
		h.expect("error "+id+" a message from "+r.uri+" was larger than the limit of 512 bytes", "close "+id+" 1009 [message too big]")
	})
	t.Run("send queue overflow", func(t *testing.T) {
		h.t, h.ctl = t, h.ctl.On(t)
		r := newRemote(t, false, 0, 300*time.Millisecond)
		got := h.eval(fmt.Sprintf(`
const c = websockets.createWebsocket(%q, "app/client");
const big = "y".repeat(600);
return [c.send(big), c.send(big), c.state, c.send("small")].join(" ");`, r.uri))
		if got != "true false closing false" {
			t.Fatalf("send, send over the limit, state, send = %q, want true false closing false", got)
		}
		ws := r.accept(t)
		if code, reason := readClose(t, ws); code != websocket.ClosePolicyViolation || reason != "send queue overflow" {
			t.Fatalf("remote got close %d %q, want 1008 send queue overflow", code, reason)
		}
		id := strings.Fields(h.expectPrefix("open "))[1]
		h.expectPrefix("error "+id+" more than 1024 bytes queued for sending to "+r.uri, "closed with 1008")
		h.expect("close " + id + " 1008 [send queue overflow]")
	})
}
