package server

import (
	"encoding/json"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

// The handler contract, end to end: the projects in testdata/contract are served by
// a real server and spoken to by a real WebSocket client. Each endpoint of the "app"
// project exercises one part of the contract; "watch" is an observer connection the
// other handlers broadcast to, so that events without a reply (onOpen, onClose) can
// be seen; "elsewhere" is a second project whose connections app must not see.

const contractRoot = "testdata/contract"

// startContract serves testdata/contract with a short event time limit.
func startContract(t *testing.T, tune func(*config.Config)) *testServer {
	t.Helper()
	return start(t, contractRoot, func(cfg *config.Config) {
		cfg.Runtime.EventTimeout.Duration = 300 * time.Millisecond
		if tune != nil {
			tune(cfg)
		}
	})
}

// watch dials the observer endpoint and waits until it is registered, so that the
// broadcasts of events that follow reach it.
func (s *testServer) watch(t *testing.T) *wstest.Client {
	t.Helper()
	w := s.dial(t, "watch")
	s.waitConns(t, "watch", 1)
	return w
}

func TestEventsInOrder(t *testing.T) {
	s := startContract(t, func(cfg *config.Config) { cfg.Server.ReadLimit = 64 })
	for _, tc := range []struct {
		name string
		// act drives the connection after it opened.
		act func(t *testing.T, c *wstest.Client)
		// want are the observer's messages after "open", then the history the
		// handler kept in conn.data.
		want    []string
		history string
	}{
		{
			name: "client closes with a code and reason",
			act: func(t *testing.T, c *wstest.Client) {
				c.Send("hi")
				c.Send("fail")
				c.CloseWith(4001, "bye")
			},
			want: []string{
				"message hi",
				"error Error: asked to fail (testdata/contract/app/events.js:17:11)",
				"close 4001 bye",
			},
			history: "history open,message,error,close",
		},
		{
			name: "handler closes with a code and reason",
			act: func(t *testing.T, c *wstest.Client) {
				c.Send("close")
				if code, reason := c.ExpectClose(); code != 4100 || reason != "closed by the handler" {
					t.Errorf("client got close %d %q, want 4100 %q", code, reason, "closed by the handler")
				}
			},
			// onClose reports the code and reason the server sent, not the client's echo.
			want:    []string{"close 4100 closed by the handler"},
			history: "history open,close",
		},
		{
			name: "oversize frame is an error, then close 1009",
			act: func(t *testing.T, c *wstest.Client) {
				c.Send(strings.Repeat("x", 100))
				if code, _ := c.ExpectClose(); code != websocket.CloseMessageTooBig {
					t.Errorf("client got close code %d, want %d", code, websocket.CloseMessageTooBig)
				}
			},
			want: []string{
				"error message larger than the limit of 64 bytes",
				"close 1009 message too big",
			},
			history: "history open,error,close",
		},
		{
			name: "client drops the TCP connection",
			act: func(t *testing.T, c *wstest.Client) {
				c.Send("last")
				c.WS.NetConn().Close()
			},
			want:    []string{"message last", "close 1006 "},
			history: "history open,message,close",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			w := s.watch(t)
			defer w.WS.Close()
			c := s.dial(t, "events")
			w.Expect("open")
			tc.act(t, c)
			for _, want := range tc.want {
				w.Expect(want)
			}
			w.Expect(tc.history)
			w.WS.Close()
			s.waitConns(t, "watch", 0)
		})
	}
}

// replyCase sends one frame and expects one frame back.
type replyCase struct {
	name     string
	send     string
	binary   bool
	wantKind int
	want     string
}

// check runs the case as a subtest on c.
func (tc replyCase) check(t *testing.T, c *wstest.Client) {
	t.Run(tc.name, func(t *testing.T) {
		c := c.On(t)
		if tc.binary {
			c.SendBinary([]byte(tc.send))
		} else {
			c.Send(tc.send)
		}
		kind, got := c.Read()
		if kind != tc.wantKind || got != tc.want {
			t.Errorf("got %q (type %d), want %q (type %d)", got, kind, tc.want, tc.wantKind)
		}
	})
}

func TestReplies(t *testing.T) {
	s := startContract(t, nil)
	c := s.dial(t, "reply")
	for _, tc := range []replyCase{
		{"string is text", "string", false, websocket.TextMessage, "a string"},
		{"object is JSON text", "object", false, websocket.TextMessage, `{"a":1,"b":[true,null],"c":"x"}`},
		{"number is JSON text", "number", false, websocket.TextMessage, "42"},
		{"null is JSON text", "null", false, websocket.TextMessage, "null"},
		{"ArrayBuffer is binary", "arraybuffer", false, websocket.BinaryMessage, "\x01\x02\x03"},
		{"Uint8Array is binary", "uint8array", false, websocket.BinaryMessage, "\x04\x05"},
		{"subarray sends only its view", "subarray", false, websocket.BinaryMessage, "\x07\x08"},
		{"Promise resolved by a timer", "promise", false, websocket.TextMessage, "resolved later"},
		{"async function", "async", false, websocket.TextMessage, `{"awaited":2,"sameConn":true}`},
		{"text arrives as a string", "héllo", false, websocket.TextMessage, "string héllo"},
		{"binary arrives as an ArrayBuffer", "\x00\x01\xff", true, websocket.TextMessage, "binary 3 bytes: 0,1,255"},
		{"empty binary frame", "", true, websocket.TextMessage, "binary 0 bytes: "},
	} {
		tc.check(t, c)
	}
	t.Run("undefined sends nothing", func(t *testing.T) {
		c := c.On(t)
		c.Send("undefined")
		c.Send("nothing")
		c.Send("string")
		// Replies keep the order of messages: anything sent for the first two would
		// arrive before this one.
		c.Expect("a string")
	})
}

func TestBroadcast(t *testing.T) {
	s := startContract(t, nil)
	a, b, c := s.dial(t, "room"), s.dial(t, "room"), s.dial(t, "room")
	s.waitConns(t, "room", 3)
	for _, tc := range []struct {
		cmd      string
		wantSent string
		toSender bool
	}{
		{"all", "sent to 3", true},
		{"others", "sent to 2", false},
		{"others-by-id", "sent to 2", false},
		{"others-list", "sent to 2", false},
	} {
		t.Run(tc.cmd, func(t *testing.T) {
			sender := a.On(t)
			text := "news-from-" + tc.cmd
			sender.Send(tc.cmd + " " + text)
			if tc.toSender {
				sender.Expect(text) // queued during onMessage, before the reply
			}
			// Had the sender been included, the broadcast would come before this.
			sender.Expect(tc.wantSent)
			for _, r := range []*wstest.Client{b, c} {
				r.On(t).Expect(text)
			}
		})
	}
}

func TestSendAndLookup(t *testing.T) {
	s := startContract(t, nil)
	a, b := s.dial(t, "room"), s.dial(t, "room")
	lobby, other := s.dial(t, "lobby"), s.dial(t, "other")
	ask := func(t *testing.T, c *wstest.Client, msg string) string {
		t.Helper()
		c = c.On(t)
		c.Send(msg)
		_, got := c.Read()
		return got
	}
	idA, idB := ask(t, a, "whoami"), ask(t, b, "whoami")
	idL, idO := ask(t, lobby, "hello"), ask(t, other, "hello")
	if idA == "" || idA == idB || idA == idL {
		t.Fatalf("got ids %q, %q, %q, want three distinct ids", idA, idB, idL)
	}
	ids := []string{idA, idB, idL}
	sort.Strings(ids)

	for _, tc := range []struct{ send, want string }{
		{"get " + idA, idA + "@room"},
		{"get " + idL, idL + "@lobby"},
		{"get no-such-id", "null"},
		{"get " + idO, "null"}, // another project's connection
		{"send no-such-id hello", "send false"},
		{"send " + idO + " hello", "send false"},
		{"list", strings.Join(ids, ",")},
		{"list-lobby", "lobby:" + idL},
		{"count", `{"all":3,"room":2,"lobby":1}`},
		{"count-foreign", `threw: count: endpoint "other" is not one of project "app"'s endpoints`},
	} {
		t.Run(tc.send, func(t *testing.T) {
			if got := ask(t, b, tc.send); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
	t.Run("send by id", func(t *testing.T) {
		a, b := a.On(t), b.On(t)
		b.Send("send " + idA + " a private word")
		a.Expect("a private word")
		b.Expect("send true")
	})
	t.Run("getConnection(id).send", func(t *testing.T) {
		a, b := a.On(t), b.On(t)
		b.Send("poke " + idA)
		a.Expect("poked by " + idB)
		b.Expect("poked")
	})
	t.Run("closed connection is gone", func(t *testing.T) {
		a.WS.Close()
		s.waitConns(t, "room", 1)
		for _, tc := range []struct{ send, want string }{
			{"get " + idA, "null"},
			{"send " + idA + " x", "send false"},
			{"count", `{"all":2,"room":1,"lobby":1}`},
		} {
			if got := ask(t, b, tc.send); got != tc.want {
				t.Errorf("%s: got %q, want %q", tc.send, got, tc.want)
			}
		}
	})
}

// contextSnapshot is what ctx.js reports of the context functions in an event.
type contextSnapshot struct {
	Method      string `json:"method"`
	Message     string `json:"message"`
	Error       string `json:"error"`
	IsOnOpen    bool   `json:"isOnOpen"`
	IsOnMessage bool   `json:"isOnMessage"`
	IsOnError   bool   `json:"isOnError"`
	IsOnClose   bool   `json:"isOnClose"`
}

func readSnapshot(t *testing.T, c *wstest.Client) contextSnapshot {
	t.Helper()
	_, data := c.On(t).Read()
	var got contextSnapshot
	if err := json.Unmarshal([]byte(data), &got); err != nil {
		t.Fatalf("got %q, want a JSON context snapshot: %v", data, err)
	}
	return got
}

func TestContextFunctions(t *testing.T) {
	s := startContract(t, nil)
	w := s.watch(t)
	c := s.dial(t, "ctx")
	const wantError = "Error: boom (testdata/contract/app/ctx.js:23:11)"
	for _, tc := range []struct {
		event string
		act   func(c *wstest.Client)
		from  *wstest.Client
		want  contextSnapshot
	}{
		{"onopen", func(*wstest.Client) {}, c,
			contextSnapshot{Method: "onopen", Message: "undefined", Error: "undefined", IsOnOpen: true}},
		{"onmessage", func(c *wstest.Client) { c.Send("hello") }, c,
			contextSnapshot{Method: "onmessage", Message: "hello", Error: "undefined", IsOnMessage: true}},
		{"onmessage after await", func(c *wstest.Client) { c.Send("await") }, c,
			contextSnapshot{Method: "onmessage", Message: "await", Error: "undefined", IsOnMessage: true}},
		{"onerror", func(c *wstest.Client) { c.Send("throw") }, c,
			contextSnapshot{Method: "onerror", Message: "undefined", Error: wantError, IsOnError: true}},
		{"onclose", func(c *wstest.Client) { c.CloseWith(1000, "") }, w,
			contextSnapshot{Method: "onclose", Message: "undefined", Error: "undefined", IsOnClose: true}},
	} {
		t.Run(tc.event, func(t *testing.T) {
			tc.act(c.On(t))
			if got := readSnapshot(t, tc.from); got != tc.want {
				t.Errorf("got %+v, want %+v", got, tc.want)
			}
		})
	}
}

func TestDirigibleScriptStyle(t *testing.T) {
	s := startContract(t, nil)
	w := s.watch(t)
	c := s.dial(t, "legacy")
	w.Expect("legacy onopen runs=1")
	for _, msg := range []string{"hi", "again"} {
		c.Send(msg)
		// runs=1 every time: the module body runs afresh for each event.
		c.Expect("legacy got " + msg + " runs=1")
		c.Expect("legacy again " + msg)
	}
	c.Send("fail")
	c.Expect("legacy got fail runs=1")
	c.Expect("legacy again fail")
	w.Expect("legacy onerror Error: legacy failure (testdata/contract/app/legacy.js:18:11)")
	c.CloseWith(4000, "done")
	w.Expect("legacy onclose runs=1")
}

// connInfo is what conn.js reports of the connection object.
type connInfo struct {
	ID            string            `json:"id"`
	Endpoint      string            `json:"endpoint"`
	RemoteAddress string            `json:"remoteAddress"`
	Headers       map[string]string `json:"headers"`
	Query         map[string]string `json:"query"`
	OpenedAtType  string            `json:"openedAtType"`
	OpenedAt      int64             `json:"openedAt"`
	ToStringIsID  bool              `json:"toStringIsId"`
}

func TestConnObject(t *testing.T) {
	s := startContract(t, nil)
	before := time.Now().UnixMilli()
	c := s.dialHeader(t, "conn?room=blue&n=1", http.Header{"X-Test-Header": {"yes"}})
	c.Send("info")
	_, data := c.Read()
	after := time.Now().UnixMilli()
	var info connInfo
	if err := json.Unmarshal([]byte(data), &info); err != nil {
		t.Fatalf("got %q, want JSON connection info: %v", data, err)
	}
	t.Run("fields", func(t *testing.T) {
		if info.ID == "" {
			t.Errorf("got empty id")
		}
		if info.Endpoint != "conn" {
			t.Errorf("endpoint: got %q, want %q", info.Endpoint, "conn")
		}
		if want := c.WS.LocalAddr().String(); info.RemoteAddress != want {
			t.Errorf("remoteAddress: got %q, want %q", info.RemoteAddress, want)
		}
		if want := map[string]string{"room": "blue", "n": "1"}; !reflect.DeepEqual(info.Query, want) {
			t.Errorf("query: got %v, want %v", info.Query, want)
		}
		if info.OpenedAtType != "number" || info.OpenedAt < before || info.OpenedAt > after {
			t.Errorf("openedAt: got %s %d, want a number in [%d, %d]", info.OpenedAtType, info.OpenedAt, before, after)
		}
		if !info.ToStringIsID {
			t.Errorf("String(conn), `${conn}` and conn.toString(): got something else than conn.id")
		}
	})
	t.Run("headers have lower-case names", func(t *testing.T) {
		if got := info.Headers["x-test-header"]; got != "yes" {
			t.Errorf("headers[x-test-header]: got %q, want %q (headers %v)", got, "yes", info.Headers)
		}
		if got := info.Headers["upgrade"]; got != "websocket" {
			t.Errorf("headers[upgrade]: got %q, want %q", got, "websocket")
		}
		for name := range info.Headers {
			if name != strings.ToLower(name) {
				t.Errorf("got header name %q, want lower case", name)
			}
		}
	})
	t.Run("data persists across events", func(t *testing.T) {
		c := c.On(t)
		c.Send("count")
		c.Expect("messages 2")
		c.Send("count")
		c.Expect("messages 3")
	})
	t.Run("close with an invalid code or reason throws", func(t *testing.T) {
		c := c.On(t)
		for _, tc := range []struct{ send, want string }{
			{"code-1005", "threw: conn.close: code 1005 is not allowed: use 1000 (normal), 1008 (policy violation) or an application code 3000-4999"},
			{"code-2999", "threw: conn.close: code 2999 is not allowed: use 1000 (normal), 1008 (policy violation) or an application code 3000-4999"},
			{"code-5000", "threw: conn.close: code 5000 is not allowed: use 1000 (normal), 1008 (policy violation) or an application code 3000-4999"},
			{"long-reason", "threw: conn.close: reason is 124 bytes; a close reason may be at most 123 bytes"},
		} {
			c.Send(tc.send)
			c.Expect(tc.want)
		}
		// Still open: none of these closed it.
		c.Send("count")
		c.Expect("messages 8")
	})
	t.Run("close with code and reason", func(t *testing.T) {
		c := c.On(t)
		c.Send("close")
		code, reason := c.ExpectClose()
		if code != 4321 || reason != "closed by the handler" {
			t.Errorf("got close %d %q, want 4321 %q", code, reason, "closed by the handler")
		}
	})
	t.Run("close with defaults", func(t *testing.T) {
		d := s.dial(t, "conn")
		d.Send("close-default")
		if code, reason := d.ExpectClose(); code != websocket.CloseNormalClosure || reason != "" {
			t.Errorf("got close %d %q, want 1000 with no reason", code, reason)
		}
	})
}

func TestModules(t *testing.T) {
	s := startContract(t, nil)
	for _, tc := range []struct {
		name, endpoint string
		send, want     []string
	}{
		{
			name:     "ES module importing siblings, module state shared",
			endpoint: "esm",
			send:     []string{" ada ", "bob"},
			want: []string{
				"hello, ada; add(2,3)=5; twice(21)=42; calls=2",
				"hello, bob; add(2,3)=5; twice(21)=42; calls=4",
			},
		},
		{
			name:     "TypeScript handler importing a .ts sibling",
			endpoint: "typed",
			send:     []string{`{"kind":"square","size":3}`, `{"kind":"circle","size":1}`},
			want: []string{
				`{"kind":"square","area":9,"unit":"m2"}`,
				`{"kind":"circle","area":3.14,"unit":"m2"}`,
			},
		},
		{
			name:     "require of a JSON file",
			endpoint: "json",
			send:     []string{"en", "fr", "de"},
			want:     []string{"hello", "bonjour", "?"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := s.dial(t, tc.endpoint)
			for i, msg := range tc.send {
				c.Send(msg)
				c.Expect(tc.want[i])
			}
		})
	}
}

func TestConsoleGoesToTheLog(t *testing.T) {
	s := startContract(t, nil)
	c := s.dial(t, "log")
	c.Send("hi")
	c.Expect("logged")
	c.Send("later")
	c.Expect("logged later")
	for _, want := range [][]string{
		{"level=INFO", `msg="console says hi"`},
		{"level=WARN", `msg="console warns hi"`},
		{"level=ERROR", `msg="console errs hi"`},
		// Timers and code after an await run in the context of their event.
		{"level=INFO", `msg="after await sees onmessage later"`},
		{"level=INFO", `msg="timer sees onmessage"`},
	} {
		s.log.WaitForLine(t, append(want, "project=app", "endpoint=log")...)
	}
}

func TestTextEncodingAndBuffer(t *testing.T) {
	s := startContract(t, nil)
	c := s.dial(t, "text")
	for _, tc := range []replyCase{
		{"TextEncoder.encode", "encode héllo ✓", false, websocket.BinaryMessage, "héllo ✓"},
		{"TextDecoder.decode", "héllo ✓", true, websocket.TextMessage, "decoded héllo ✓ / héllo ✓"},
		{"TextDecoder replaces invalid UTF-8", "a\xffb", true, websocket.TextMessage, "decoded a\uFFFDb / a\uFFFDb"},
		{"Buffer to base64", "base64 héllo", false, websocket.TextMessage, "aMOpbGxv"},
		{"Buffer from base64 is binary", "unbase64 aMOpbGxv", false, websocket.BinaryMessage, "héllo"},
		{"require('buffer').Buffer", "hex ab", false, websocket.TextMessage, "6162"},
		{"byte lengths", "length é✓", false, websocket.TextMessage, "2 chars, 5 bytes, 5 encoded"},
	} {
		tc.check(t, c)
	}
}

// TestRunawayHandlers checks that the time limit and the call stack limit stop a
// handler, that the failure is logged and reported to onError, and that the same
// connection and worker go on serving (conn.data.served keeps counting).
func TestRunawayHandlers(t *testing.T) {
	s := startContract(t, nil)
	c := s.dial(t, "limits")
	served := 0
	for _, tc := range []struct {
		name string
		send string
		// reply is the immediate answer, if any.
		reply string
		// onError is what onError sends, if it is called.
		onError string
		// log are substrings of one log line.
		log []string
		// maxLogLen, if set, bounds the length of that line.
		maxLogLen int
	}{
		{
			// goja stops an empty loop at the start of its function; the stack
			// still has the line that called it.
			name:    "endless loop in onMessage",
			send:    "spin",
			onError: "onError: onmessage exceeded the time limit of 300ms and was interrupted (testdata/contract/app/limits.js:25:1)",
			log: []string{
				`error="onmessage exceeded the time limit of 300ms and was interrupted"`,
				"at=testdata/contract/app/limits.js:25:1", "endpoint=limits",
				`stack="at spin (testdata/contract/app/limits.js:25:1)\nat onMessage (testdata/contract/app/limits.js:11:14)"`,
			},
		},
		{
			name:    "deep recursion",
			send:    "recurse",
			onError: "onError: RangeError: maximum call stack size exceeded (testdata/contract/app/limits.js:30:10)",
			log: []string{
				`error="RangeError: maximum call stack size exceeded"`, "at=testdata/contract/app/limits.js:30:10", "endpoint=limits",
				`stack="at depth (testdata/contract/app/limits.js:30:10)\nat depth`, ` more frames"`,
			},
			maxLogLen: 2000, // the stack is cut short, not a thousand frames
		},
		{
			name:  "endless loop in a timer",
			send:  "timer-spin",
			reply: "timer scheduled",
			log:   []string{"in=timer", `error="timer exceeded the time limit of 300ms and was interrupted"`, "at=testdata/contract/app/limits.js:15:18", "endpoint=limits"},
		},
		{
			name:    "endless loop after await",
			send:    "async-spin",
			onError: "onError: onmessage exceeded the time limit of 300ms and was interrupted (testdata/contract/app/limits.js:33:1)",
			log: []string{
				`error="onmessage exceeded the time limit of 300ms and was interrupted"`,
				`stack="at spinLater (testdata/contract/app/limits.js:33:1)"`,
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := c.On(t)
			began := time.Now()
			c.Send(tc.send)
			served++
			if tc.reply != "" {
				c.Expect(tc.reply)
			}
			if tc.onError != "" {
				c.Expect(tc.onError)
			}
			line := s.log.WaitForLine(t, tc.log...)
			if tc.maxLogLen > 0 && len(line) > tc.maxLogLen {
				t.Errorf("got a log line of %d bytes, want at most %d:\n%s", len(line), tc.maxLogLen, line)
			}
			c.Send("next")
			served++
			c.Expect("served " + strconv.Itoa(served) + ": next")
			if d := time.Since(began); d > 3*time.Second {
				t.Errorf("took %s, want the limit (300ms) to stop it", d)
			}
		})
	}
}
