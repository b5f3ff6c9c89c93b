package examples_test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/internal/blimptest"
)

// The Cinema8 example (examples/cinema8) is a projects root: its widget channel is
// the endpoint "cinema8". Its protocol is in examples/cinema8/README.md.
const (
	c8Root     = "cinema8"
	c8Endpoint = "cinema8"
	c8Quiet    = 150 * time.Millisecond
)

// c8Frame is a frame of the widget channel.
type c8Frame struct {
	Type      string          `json:"type"`
	RequestID any             `json:"requestId"`
	Code      string          `json:"code"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// c8Model is Cinema8's data model, as the channel delivers and stores it.
type c8Model struct {
	ID       *string        `json:"id"`
	Created  int64          `json:"created"`
	ClientID string         `json:"client_id"`
	Username *string        `json:"username"`
	Data     map[string]any `json:"data"`
}

type c8Welcome struct {
	ConnectionID string  `json:"connectionId"`
	ClientID     string  `json:"client_id"`
	Persistent   bool    `json:"persistent"`
	Username     *string `json:"username"`
}

type c8Published struct {
	ID         *string `json:"id"`
	Created    int64   `json:"created"`
	Persistent bool    `json:"persistent"`
	Delivered  int     `json:"delivered"`
}

// c8Tokens returns the demo tokens of the example's users.json by username.
func c8Tokens(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(c8Root, "widgets", "users.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Users []struct{ Username, Token string }
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatalf("users.json: %v", err)
	}
	tokens := map[string]string{}
	for _, u := range f.Users {
		tokens[u.Username] = u.Token
	}
	if tokens["ada"] == "" || tokens["bob"] == "" {
		t.Fatalf("users.json: want users ada and bob, got %v", tokens)
	}
	return tokens
}

func c8Start(t *testing.T) *blimptest.Server {
	t.Helper()
	s := blimptest.Start(t, c8Root, nil)
	s.Log.WaitFor(t, "project loaded")
	return s
}

// c8Read reads and decodes the next frame of c.
func c8Read(t *testing.T, c *blimptest.Client) c8Frame {
	t.Helper()
	text := c.ReadText()
	var f c8Frame
	if err := json.Unmarshal([]byte(text), &f); err != nil {
		t.Fatalf("frame %s: %v", text, err)
	}
	return f
}

// c8Expect reads the next frame of c, checks its type and decodes its data into
// data (if not nil).
func c8Expect(t *testing.T, c *blimptest.Client, typ string, data any) c8Frame {
	t.Helper()
	f := c8Read(t, c)
	if f.Type != typ {
		t.Fatalf("got a %q frame (%s %s %s), want %q", f.Type, f.Code, f.Error, f.Data, typ)
	}
	if data != nil {
		if err := json.Unmarshal(f.Data, data); err != nil {
			t.Fatalf("%s data %s: %v", typ, f.Data, err)
		}
	}
	return f
}

// c8ExpectCount reads an activeConnectionsChange frame and checks its count.
func c8ExpectCount(t *testing.T, want int, clients ...*blimptest.Client) {
	t.Helper()
	for _, c := range clients {
		var n int
		c8Expect(t, c, "activeConnectionsChange", &n)
		if n != want {
			t.Fatalf("activeConnectionsChange: got %d, want %d", n, want)
		}
	}
}

// c8ExpectNothing checks that nothing is waiting for any of clients: each sends a
// ping, and its next frame must be the pong. The project runs in one worker, so a
// frame sent to a client by an event that ran earlier is queued before the pong.
func c8ExpectNothing(t *testing.T, clients ...*blimptest.Client) {
	t.Helper()
	for i, c := range clients {
		c.Send(`{"type":"ping","requestId":"sync"}`)
		if f := c8Read(t, c); f.Type != "pong" || f.RequestID != "sync" {
			t.Fatalf("client %d got %s %v %s, want nothing before the pong", i, f.Type, f.RequestID, f.Data)
		}
	}
}

// c8ExpectQuiet checks that none of clients receives anything for a moment. A
// client cannot read after that: use it last.
func c8ExpectQuiet(t *testing.T, clients ...*blimptest.Client) {
	t.Helper()
	for i, c := range clients {
		c.WS.SetReadDeadline(time.Now().Add(c8Quiet))
		if _, data, err := c.WS.ReadMessage(); err == nil {
			t.Fatalf("client %d got %s, want nothing", i, data)
		}
	}
}

// c8Join connects to the channel with query (and header), reads the welcome and
// the first connection count, and returns the client and its welcome.
func c8Join(t *testing.T, s *blimptest.Server, query string, header http.Header, count int) (*blimptest.Client, c8Welcome) {
	t.Helper()
	c, resp, err := s.TryDial(t, c8Endpoint+"?"+query, header)
	if err != nil {
		t.Fatalf("dial %s: %v (%v)", query, err, resp)
	}
	var w c8Welcome
	c8Expect(t, c, "welcome", &w)
	c8ExpectCount(t, count, c)
	return c, w
}

func c8Search(t *testing.T, c *blimptest.Client, requestID, query string) []c8Model {
	t.Helper()
	c.Send(`{"type":"search","requestId":"` + requestID + `","query":` + query + `}`)
	var docs []c8Model
	f := c8Expect(t, c, "searchResult", &docs)
	if f.RequestID != requestID {
		t.Fatalf("searchResult requestId: got %v, want %s", f.RequestID, requestID)
	}
	return docs
}

func c8Scores(docs []c8Model) []float64 {
	out := []float64{}
	for _, d := range docs {
		score, _ := d.Data["score"].(float64)
		out = append(out, score)
	}
	return out
}

func c8Str(p *string) string {
	if p == nil {
		return "<null>"
	}
	return *p
}

func TestCinema8Refusals(t *testing.T) {
	s := c8Start(t)
	tokens := c8Tokens(t)
	watcher, _ := c8Join(t, s, "client_id=w", nil, 1)
	for _, tc := range []struct {
		name, query string
		header      http.Header
		code        string
		mention     string
		reason      string
	}{
		{"no client_id", "", nil, "client_id_required", "client_id is required", "client_id required"},
		{"empty client_id", "client_id=", nil, "client_id_required", "client_id is required", "client_id required"},
		{"client_id with a space", "client_id=a%20b", nil, "bad_client_id", "letters, digits", "invalid client_id"},
		{"client_id too long", "client_id=" + strings.Repeat("x", 129), nil, "bad_client_id", "1-128", "invalid client_id"},
		{"persistent not a boolean", "client_id=w&persistent=maybe", nil, "bad_persistent", "persistent must be true or false", "invalid persistent"},
		{"unknown token", "client_id=w&token=not-a-known-token-123", nil, "unauthorized", "unknown token", "unauthorized"},
		{"not a bearer header", "client_id=w", http.Header{"Authorization": {"Basic " + tokens["ada"]}}, "unauthorized", "Bearer", "unauthorized"},
		{"unknown bearer token", "client_id=w&token=" + tokens["ada"], http.Header{"Authorization": {"Bearer not-a-known-token-123"}}, "unauthorized", "unknown token", "unauthorized"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, resp, err := s.TryDial(t, c8Endpoint+"?"+tc.query, tc.header)
			if err != nil {
				t.Fatalf("dial: %v (%v)", err, resp)
			}
			f := c8Expect(t, c, "error", nil)
			if f.Code != tc.code || !strings.Contains(f.Error, tc.mention) {
				t.Errorf("got error %q %q, want code %q and a message mentioning %q", f.Code, f.Error, tc.code, tc.mention)
			}
			if code, reason := c.ExpectClose(); code != websocket.ClosePolicyViolation || reason != tc.reason {
				t.Errorf("got close %d %q, want 1008 %q", code, reason, tc.reason)
			}
		})
	}
	// A refused connection never joined: the widget's count did not change.
	c8ExpectQuiet(t, watcher)
}

func TestCinema8Widgets(t *testing.T) {
	s := c8Start(t)
	tokens := c8Tokens(t)

	// Widget show-1: ada (persistent, token in the query), an anonymous viewer (not
	// persistent) and bob (persistent, token in an Authorization header). Widget
	// show-2: ada again. Every join is counted for the joiner's widget only.
	a1, w1 := c8Join(t, s, "client_id=show-1&persistent=true&token="+tokens["ada"], nil, 1)
	a2, w2 := c8Join(t, s, "client_id=show-1", nil, 2)
	c8ExpectCount(t, 2, a1)
	a3, w3 := c8Join(t, s, "client_id=show-1&persistent=1", http.Header{"Authorization": {"Bearer " + tokens["bob"]}}, 3)
	c8ExpectCount(t, 3, a1, a2)
	b1, wb := c8Join(t, s, "client_id=show-2&persistent=true&token="+tokens["ada"], nil, 1)
	c8ExpectNothing(t, a1, a2, a3)
	for _, tc := range []struct {
		got                c8Welcome
		clientID, username string
		persistent         bool
	}{
		{w1, "show-1", "ada", true}, {w2, "show-1", "<null>", false},
		{w3, "show-1", "bob", true}, {wb, "show-2", "ada", true},
	} {
		if tc.got.ClientID != tc.clientID || c8Str(tc.got.Username) != tc.username || tc.got.Persistent != tc.persistent || tc.got.ConnectionID == "" {
			t.Errorf("welcome: got %+v (username %s), want client_id %s, username %s, persistent %v and a connectionId",
				tc.got, c8Str(tc.got.Username), tc.clientID, tc.username, tc.persistent)
		}
	}

	// publish: stored when persistent, delivered at once to the widget's other
	// connections, not to the sender (which gets an ack for its requestId) and not
	// to other widgets. client_id and username come from the connection, never from
	// the frame.
	publish := func(from *blimptest.Client, requestID, data string, persistent bool, username string, to ...*blimptest.Client) c8Published {
		t.Helper()
		from.Send(`{"type":"publish","requestId":"` + requestID + `","username":"mallory","client_id":"show-2","data":` + data + `}`)
		var ack c8Published
		f := c8Expect(t, from, "published", &ack)
		if f.RequestID != requestID || ack.Persistent != persistent || ack.Delivered != len(to) || (ack.ID != nil) != persistent || ack.Created == 0 {
			t.Fatalf("ack: got %v %+v, want requestId %s, persistent %v, delivered %d, an id only if persistent", f.RequestID, ack, requestID, persistent, len(to))
		}
		for _, c := range to {
			var m c8Model
			c8Expect(t, c, "message", &m)
			var want map[string]any
			json.Unmarshal([]byte(data), &want)
			if c8Str(m.ID) != c8Str(ack.ID) || m.Created != ack.Created || m.ClientID != "show-1" ||
				c8Str(m.Username) != username || !reflect.DeepEqual(m.Data, want) {
				t.Fatalf("message: got %+v (id %s, username %s), want id %s, created %d, username %s, data %v",
					m, c8Str(m.ID), c8Str(m.Username), c8Str(ack.ID), ack.Created, username, want)
			}
		}
		return ack
	}
	p1 := publish(a1, "p1", `{"score":60,"liked":true}`, true, "ada", a2, a3)
	publish(a3, "p2", `{"score":90,"liked":false}`, true, "bob", a1, a2)
	publish(a1, "p3", `{"score":40,"liked":true}`, true, "ada", a2, a3)
	publish(a2, "p4", `{"score":99,"liked":true}`, false, "<null>", a1, a3)
	publish(b1, "p5", `{"score":95,"liked":true}`, true, "ada")
	// Without a requestId there is no ack.
	a1.Send(`{"type":"publish","data":{"note":"no ack"}}`)
	for _, c := range []*blimptest.Client{a2, a3} {
		var m c8Model
		c8Expect(t, c, "message", &m)
		if m.Data["note"] != "no ack" || c8Str(m.Username) != "ada" {
			t.Fatalf("got %+v, want ada's note", m)
		}
	}
	c8ExpectNothing(t, a1, a2, a3, b1)

	// search: the widget's stored data only (not show-2's, not what was published
	// without persistence), answered to the requester only.
	t.Run("search", func(t *testing.T) {
		for _, tc := range []struct {
			name, query string
			scores      []float64
			usernames   []string
		}{
			{"no query", `null`, []float64{60, 90, 40, 0}, []string{"ada", "bob", "ada", "ada"}},
			{"seed query", `{"sortField":"created","sortOrder":"asc","offset":0,"limit":10,"filters":[{"field":"created","operator":">","value":` +
				c8Int(p1.Created-1) + `},{"field":"data.score","operator":">","value":55}]}`, []float64{60, 90}, []string{"ada", "bob"}},
			{"sort by score desc", `{"sortField":"data.score","sortOrder":"desc","filters":[{"field":"data.score","operator":">=","value":0}]}`, []float64{90, 60, 40}, nil},
			{"offset and limit", `{"offset":1,"limit":2}`, []float64{90, 40}, nil},
			{"username filter", `{"filters":[{"field":"username","operator":"=","value":"bob"}]}`, []float64{90}, []string{"bob"}},
			{"cannot reach another widget", `{"filters":[{"field":"client_id","operator":"=","value":"show-2"}]}`, []float64{}, nil},
			{"in", `{"filters":[{"field":"data.score","operator":"in","value":[40,95,99]}]}`, []float64{40}, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				docs := c8Search(t, a2, "s-"+tc.name, tc.query)
				if got := c8Scores(docs); !reflect.DeepEqual(got, tc.scores) {
					t.Errorf("scores: got %v, want %v", got, tc.scores)
				}
				for i, d := range docs {
					if d.ClientID != "show-1" || d.ID == nil || d.Created == 0 {
						t.Errorf("doc %d: got %+v, want show-1's stored data with id and created", i, d)
					}
					if tc.usernames != nil && c8Str(d.Username) != tc.usernames[i] {
						t.Errorf("doc %d: got username %s, want %s", i, c8Str(d.Username), tc.usernames[i])
					}
				}
			})
		}
		for _, tc := range []struct{ name, query, want string }{
			{"groupBy data.liked", `{"groupBy":"data.liked"}`, `[{"value":true,"count":2},{"value":null,"count":1},{"value":false,"count":1}]`},
			{"groupBy username", `{"groupBy":"username","filters":[{"field":"data.score","operator":">","value":0}]}`, `[{"value":"ada","count":2},{"value":"bob","count":1}]`},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a2.Send(`{"type":"search","requestId":7,"query":` + tc.query + `}`)
				f := c8Expect(t, a2, "searchResult", nil)
				if f.RequestID != float64(7) || !c8JSONEqual(t, string(f.Data), tc.want) {
					t.Errorf("got requestId %v, groups %s, want 7, %s", f.RequestID, f.Data, tc.want)
				}
			})
		}
		if docs := c8Search(t, b1, "b", `{}`); len(docs) != 1 || docs[0].ClientID != "show-2" || docs[0].Data["score"] != float64(95) {
			t.Errorf("show-2's search: got %+v, want its one document", docs)
		}
		c8ExpectNothing(t, a1, a3)
	})

	t.Run("malformed queries", func(t *testing.T) {
		for _, tc := range []struct{ name, query, mention string }{
			{"unknown operator", `{"filters":[{"field":"data.score","operator":"~","value":1}]}`, `filters[0].operator: unknown operator "~"`},
			{"limit not a number", `{"limit":"ten"}`, "limit: must be a number"},
			{"limit too large", `{"limit":5000}`, "limit: 5000 is above the maximum of 1000"},
			{"unknown key", `{"sort":"created"}`, "sort: unknown key"},
			{"bad sortOrder", `{"sortOrder":"up"}`, `sortOrder: must be "asc" or "desc"`},
			{"filters not an array", `{"filters":{"field":"x"}}`, "query.filters must be an array"},
			{"filter without value", `{"filters":[{"field":"data.score","operator":">"}]}`, "filters[0]: missing value"},
			{"bad field path", `{"sortField":"data..score"}`, "empty segment"},
			{"query not an object", `"everything"`, "query must be an object"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a2.Send(`{"type":"search","requestId":"bad","query":` + tc.query + `}`)
				f := c8Expect(t, a2, "error", nil)
				if f.RequestID != "bad" || f.Code != "bad_query" || !strings.Contains(f.Error, tc.mention) {
					t.Errorf("got %v %q %q, want requestId bad, code bad_query and a message mentioning %q", f.RequestID, f.Code, f.Error, tc.mention)
				}
			})
		}
		if docs := c8Search(t, a2, "after", `{}`); len(docs) != 4 {
			t.Errorf("search after errors: got %d documents, want 4", len(docs))
		}
	})

	t.Run("protocol errors", func(t *testing.T) {
		for _, tc := range []struct {
			name, send, code, mention string
			requestID                 any
		}{
			{"not JSON", `hello`, "bad_frame", "JSON object", nil},
			{"not an object", `[1,2]`, "bad_frame", "JSON object", nil},
			{"unknown type", `{"type":"subscribe","requestId":"u"}`, "unknown_type", `"subscribe"`, "u"},
			{"no type", `{"data":1}`, "unknown_type", `publish`, nil},
			{"publish without data", `{"type":"publish","requestId":"d"}`, "bad_publish", "publish needs data", "d"},
			{"bad requestId", `{"type":"search","requestId":{"a":1}}`, "bad_frame", "requestId", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				a1.Send(tc.send)
				f := c8Expect(t, a1, "error", nil)
				if f.Code != tc.code || !strings.Contains(f.Error, tc.mention) || f.RequestID != tc.requestID {
					t.Errorf("got %q %q (requestId %v), want %q mentioning %q (requestId %v)", f.Code, f.Error, f.RequestID, tc.code, tc.mention, tc.requestID)
				}
			})
		}
		if err := a1.WS.WriteMessage(websocket.BinaryMessage, []byte{1, 2}); err != nil {
			t.Fatal(err)
		}
		if f := c8Expect(t, a1, "error", nil); f.Code != "bad_frame" || !strings.Contains(f.Error, "binary") {
			t.Errorf("binary frame: got %q %q, want bad_frame about binary frames", f.Code, f.Error)
		}
		c8ExpectNothing(t, a2, a3, b1)
	})

	// Leaving: the widget's remaining connections get the new count; other widgets
	// hear nothing.
	a3.WS.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""))
	c8ExpectCount(t, 2, a1, a2)
	a2.WS.Close() // without a close frame
	c8ExpectCount(t, 1, a1)
	c8ExpectQuiet(t, b1)
}

// TestCinema8OrderPerConnection publishes a burst of persistent frames and checks
// that they are delivered, acknowledged and stored in the order sent.
func TestCinema8OrderPerConnection(t *testing.T) {
	s := c8Start(t)
	a, _ := c8Join(t, s, "client_id=burst&persistent=true", nil, 1)
	b, _ := c8Join(t, s, "client_id=burst", nil, 2)
	c8ExpectCount(t, 2, a)
	const n = 40
	for i := range n {
		a.Send(`{"type":"publish","requestId":` + c8Int(int64(i)) + `,"data":{"i":` + c8Int(int64(i)) + `}}`)
	}
	for i := range n {
		if f := c8Expect(t, a, "published", nil); f.RequestID != float64(i) {
			t.Fatalf("ack %d: got requestId %v", i, f.RequestID)
		}
		var m c8Model
		c8Expect(t, b, "message", &m)
		if m.Data["i"] != float64(i) {
			t.Fatalf("message %d: got %v", i, m.Data)
		}
	}
	docs := c8Search(t, b, "all", `{"limit":100}`)
	for i, d := range docs {
		if d.Data["i"] != float64(i) {
			t.Fatalf("stored %d: got %v (stored order must follow the sent order)", i, d.Data)
		}
	}
	if len(docs) != n {
		t.Fatalf("stored: got %d documents, want %d", len(docs), n)
	}
}

func c8Int(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func c8JSONEqual(t *testing.T, a, b string) bool {
	t.Helper()
	var x, y any
	if err := json.Unmarshal([]byte(a), &x); err != nil {
		t.Fatalf("%s: %v", a, err)
	}
	if err := json.Unmarshal([]byte(b), &y); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return reflect.DeepEqual(x, y)
}

// The browser client (c8-websocket.js) runs under Node with the ws package as its
// global WebSocket, loaded as a classic script would be in a page.

// c8WSVersion is the ws package the browser client test installs.
const c8WSVersion = "8.18.3"

// c8NodeWS returns the node binary and the folder of the ws package, installing ws
// with npm into the user's cache folder the first time. It skips the test when
// node is not installed.
func c8NodeWS(t *testing.T) (node, wsDir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed: this test runs the browser client c8-websocket.js under Node (install node and npm to run it)")
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = t.TempDir()
	}
	prefix := filepath.Join(cache, "blimp-test", "node-ws-"+c8WSVersion)
	wsDir = filepath.Join(prefix, "node_modules", "ws")
	if _, err := os.Stat(filepath.Join(wsDir, "package.json")); err == nil {
		return node, wsDir
	}
	npm, err := exec.LookPath("npm")
	if err != nil {
		t.Fatalf("node is installed but npm is not, and ws@%s is not in %s: install npm", c8WSVersion, prefix)
	}
	if err := os.MkdirAll(filepath.Dir(prefix), 0o755); err != nil {
		t.Fatal(err)
	}
	// Install beside the cache folder, then rename into place, so that a test
	// run that is killed, or two running at once, never leave half an install.
	tmp, err := os.MkdirTemp(filepath.Dir(prefix), "node-ws-install-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(tmp)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, npm, "install", "--no-save", "--no-audit", "--no-fund", "--prefix", tmp, "ws@"+c8WSVersion)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("npm install ws@%s: %v\n%s", c8WSVersion, err, out)
	}
	if err := os.Rename(tmp, prefix); err != nil {
		if _, serr := os.Stat(filepath.Join(wsDir, "package.json")); serr != nil {
			t.Fatalf("installing ws into %s: %v", prefix, err)
		}
		// Another run installed it first.
	}
	return node, wsDir
}

// c8Driver uses c8-websocket.js as a widget page would and prints one JSON line per
// event: {"event": name, "data": ...}.
const c8Driver = `
const [clientScript, wsDir, url, clientId, token] = process.argv.slice(2);
globalThis.WebSocket = require(wsDir);
require("vm").runInThisContext(require("fs").readFileSync(clientScript, "utf8"), { filename: clientScript });

const out = (event, data) => console.log(JSON.stringify({ event, data }));
const fail = (why) => { out("fail", String(why && why.stack || why)); process.exit(1); };
setTimeout(() => fail("timed out"), 15000).unref();
process.on("unhandledRejection", fail);

// next(socket, name) resolves with the next call of socket[name].
const waiting = new Map();
function watch(label, socket) {
  for (const name of ["onOpen", "onMessage", "onActiveConnectionsChange", "onClose", "onError"]) {
    socket[name] = (arg) => {
      out(label + "." + name, arg === undefined ? null : arg);
      const w = waiting.get(label + "." + name);
      if (w && w.length) w.shift()(arg);
    };
  }
  return socket;
}
const next = (label, name) => new Promise((resolve) => {
  const key = label + "." + name;
  if (!waiting.has(key)) waiting.set(key, []);
  waiting.get(key).push(resolve);
});

(async () => {
  const api = globalThis.c8PlayerApi;
  const aOpen = next("a", "onOpen"), aCount1 = next("a", "onActiveConnectionsChange");
  const a = watch("a", new api.webSocket({ url, clientId, persistent: true, token }));
  await aOpen; await aCount1;

  // b publishes before it is open: the frame waits for the welcome.
  const bOpen = next("b", "onOpen"), aCount2 = next("a", "onActiveConnectionsChange"), aEarly = next("a", "onMessage");
  const b = watch("b", new api.webSocket({ url, clientId }));
  b.publish({ early: true });
  await bOpen; await aCount2; await aEarly;

  const bGot = next("b", "onMessage");
  const ack = await new Promise((resolve, reject) =>
    a.publish({ score: 77, username: "mallory" }, { success: resolve, error: reject }));
  out("a.published", ack);
  await bGot;

  const res = await new Promise((resolve, reject) => a.search({
    query: { sortField: "data.score", sortOrder: "desc", filters: [{ field: "data.score", operator: ">", value: 50 }] },
    success: resolve, error: reject }));
  out("a.search", res);
  out("b.group", await b.search({ query: { groupBy: "username" } }));
  const bad = await new Promise((resolve) => a.search({
    query: { filters: [{ field: "data.score", operator: "~", value: 1 }] },
    success: (r) => fail("malformed query answered " + JSON.stringify(r)), error: resolve }));
  out("a.searchError", bad);

  const cError = next("c", "onError"), cClose = next("c", "onClose");
  watch("c", new api.webSocket({ url, clientId: "not a valid id" }));
  await cError; await cClose;

  const bClose = next("b", "onClose"), aCount3 = next("a", "onActiveConnectionsChange");
  b.close();
  await bClose; await aCount3;
  const aClose = next("a", "onClose");
  a.close();
  await aClose;
  out("done", null);
})().catch(fail);
`

func TestCinema8BrowserClient(t *testing.T) {
	node, wsDir := c8NodeWS(t)
	s := c8Start(t)
	tokens := c8Tokens(t)
	script, err := filepath.Abs(filepath.Join(c8Root, "widgets", "public", "c8-websocket.js"))
	if err != nil {
		t.Fatal(err)
	}
	driver := filepath.Join(t.TempDir(), "driver.js")
	if err := os.WriteFile(driver, []byte(c8Driver), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, driver, script, wsDir, s.URL(c8Endpoint), "node-widget", tokens["ada"])
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	t.Logf("driver output:\n%s", out)
	if err != nil {
		t.Fatalf("driver: %v\n%s", err, stderr.String())
	}

	events := map[string][]json.RawMessage{}
	var order []string
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		var ev struct {
			Event string
			Data  json.RawMessage
		}
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("driver line %q: %v", line, err)
		}
		events[ev.Event] = append(events[ev.Event], ev.Data)
		order = append(order, ev.Event)
	}
	if order[len(order)-1] != "done" {
		t.Fatalf("driver did not finish: %v", order)
	}
	check := func(event string, i int, want string) {
		t.Helper()
		if len(events[event]) <= i {
			t.Errorf("%s #%d: never happened", event, i+1)
			return
		}
		if got := string(events[event][i]); !c8JSONContains(t, got, want) {
			t.Errorf("%s #%d: got %s, want it to contain %s", event, i+1, got, want)
		}
	}
	check("a.onOpen", 0, `{"type":"welcome","data":{"client_id":"node-widget","persistent":true,"username":"ada"}}`)
	check("b.onOpen", 0, `{"data":{"persistent":false,"username":null}}`)
	check("a.onActiveConnectionsChange", 0, `{"data":1}`)
	check("a.onActiveConnectionsChange", 1, `{"data":2}`)
	check("a.onActiveConnectionsChange", 2, `{"data":1}`)
	check("b.onActiveConnectionsChange", 0, `{"data":2}`)
	check("a.onMessage", 0, `{"type":"message","data":{"client_id":"node-widget","username":null,"data":{"early":true}}}`)
	check("a.published", 0, `{"persistent":true,"delivered":1}`)
	check("b.onMessage", 0, `{"type":"message","data":{"client_id":"node-widget","username":"ada","data":{"score":77,"username":"mallory"}}}`)
	check("a.search", 0, `[{"client_id":"node-widget","username":"ada","data":{"score":77}}]`)
	check("b.group", 0, `[{"value":"ada","count":1}]`)
	check("a.searchError", 0, `{"code":"bad_query"}`)
	check("c.onError", 0, `{"code":"bad_client_id"}`)
	check("c.onClose", 0, `{"code":1008,"reason":"invalid client_id"}`)
	check("b.onClose", 0, `{"code":1000}`)
	check("a.onClose", 0, `{"code":1000}`)
	if got := events["a.search"]; len(got) == 1 && !strings.Contains(string(got[0]), `"id":"`) {
		t.Errorf("search result %s has no id", got[0])
	}
	if bad := events["a.searchError"]; len(bad) == 1 && !strings.Contains(string(bad[0]), "unknown operator") {
		t.Errorf("search error %s does not say what is wrong", bad[0])
	}
	if n := len(events["a.onMessage"]); n != 1 {
		t.Errorf("a got %d messages, want 1 (b's; never its own)", n)
	}
	if n := len(events["a.onError"]) + len(events["b.onError"]); n != 0 {
		t.Errorf("a and b got %d errors, want none: %v %v", n, events["a.onError"], events["b.onError"])
	}
}

// c8JSONContains reports whether the JSON value got contains want: objects contain
// the keys of want with contained values, arrays the same number of elements each
// containing want's, other values equal.
func c8JSONContains(t *testing.T, got, want string) bool {
	t.Helper()
	var g, w any
	if err := json.Unmarshal([]byte(got), &g); err != nil {
		t.Fatalf("%s: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("%s: %v", want, err)
	}
	return c8Contains(g, w)
}

func c8Contains(g, w any) bool {
	switch w := w.(type) {
	case map[string]any:
		gm, ok := g.(map[string]any)
		if !ok {
			return false
		}
		for k, wv := range w {
			gv, ok := gm[k]
			if !ok || !c8Contains(gv, wv) {
				return false
			}
		}
		return true
	case []any:
		ga, ok := g.([]any)
		if !ok || len(ga) != len(w) {
			return false
		}
		for i := range w {
			if !c8Contains(ga[i], w[i]) {
				return false
			}
		}
		return true
	default:
		return reflect.DeepEqual(g, w)
	}
}
