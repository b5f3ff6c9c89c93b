package server

import (
	"bytes"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

var connProject = map[string]string{
	"c/echo.websocket":  `{"endpoint": "echo", "handler": "c/echo"}`,
	"c/echo.js":         `export const onMessage = (m) => m;`,
	"c/zip.websocket":   `{"endpoint": "zip", "handler": "c/echo", "compression": true}`,
	"c/flood.websocket": `{"endpoint": "flood", "handler": "c/flood"}`,
	"c/flood.js": `
import { websockets } from "sdk/net";
const chunk = "x".repeat(32 * 1024);
// A steady stream (32 KB every 3 ms, about 10 MB/s, 9.6 MB in all: more than the
// kernel's socket buffers and the queue can hold) that a reading client keeps up with.
export function onMessage(m, conn) {
  if (m !== "go") return;
  let n = 0;
  const t = setInterval(() => {
    websockets.broadcast("flood", chunk, { except: conn });
    if (++n === 300) { clearInterval(t); conn.send("sent"); }
  }, 3);
}`,
	"c/bye.websocket": `{"endpoint": "bye", "handler": "c/bye"}`,
	"c/bye.js":        `export function onClose(conn, code, reason) { console.log("onClose ran", code, reason); }`,
}

func startConn(t testing.TB, tune func(*config.Config)) *testServer {
	t.Helper()
	return startFilesWith(t, connProject, tune)
}

func TestSlowConsumerIsClosedOthersKeepUp(t *testing.T) {
	s := startConn(t, func(c *config.Config) { c.Server.QueueBytes = 1 << 20 })
	slow := s.dial(t, "flood") // never reads
	fast := s.dial(t, "flood")
	publisher := s.dial(t, "flood")
	var got int
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for got < 300 {
			fast.WS.SetReadDeadline(time.Now().Add(10 * time.Second))
			if _, _, err := fast.WS.ReadMessage(); err != nil {
				return
			}
			got++
		}
	}()
	publisher.Send("go")
	publisher.Expect("sent")
	wg.Wait()
	if got != 300 {
		t.Fatalf("the fast receiver got %d of 300 messages while a slow one was connected", got)
	}
	s.log.WaitFor(t, "closing slow connection")
	wstest.Eventually(t, func() string {
		if n := s.Hub().Count("flood"); n != 2 {
			return "the slow consumer is still connected"
		}
		return ""
	})
	_ = slow
}

func TestOriginCheck(t *testing.T) {
	for _, tc := range []struct {
		name    string
		allowed []string
		origin  string
		want    int
	}{
		{"no origin header", nil, "", http.StatusSwitchingProtocols},
		{"same host", nil, "http://HOST", http.StatusSwitchingProtocols},
		{"other origin refused", nil, "http://evil.example", http.StatusForbidden},
		{"listed origin", []string{"https://app.example"}, "https://app.example", http.StatusSwitchingProtocols},
		{"unlisted origin", []string{"https://app.example"}, "https://other.example", http.StatusForbidden},
		{"star", []string{"*"}, "http://evil.example", http.StatusSwitchingProtocols},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := startConn(t, func(c *config.Config) { c.Server.AllowedOrigins = tc.allowed })
			h := http.Header{}
			if tc.origin != "" {
				h.Set("Origin", strings.Replace(tc.origin, "HOST", s.addr, 1))
			}
			ws, resp, err := websocket.DefaultDialer.Dial(s.url("echo"), h)
			if ws != nil {
				ws.Close()
			}
			if resp == nil {
				t.Fatalf("no handshake response: %v", err)
			}
			if resp.StatusCode != tc.want {
				t.Fatalf("got HTTP %d, want %d", resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusForbidden {
				// The refusal says why, to the client and in the log.
				body, _ := io.ReadAll(resp.Body)
				if !strings.Contains(string(body), "origin "+tc.origin+" may not connect") || !strings.Contains(string(body), "server.allowed_origins") {
					t.Fatalf("got body %q, want the origin and server.allowed_origins named", body)
				}
				s.log.WaitForLine(t, "origin not allowed", tc.origin)
			}
		})
	}
}

func TestKeepalive(t *testing.T) {
	s := startConn(t, func(c *config.Config) {
		c.Server.PingInterval.Duration = 50 * time.Millisecond
		c.Server.PongTimeout.Duration = 200 * time.Millisecond
	})
	alive := s.dial(t, "echo")
	dead := s.dial(t, "echo") // reads nothing, so it never answers a ping
	_ = dead
	// The live client reads all the time (gorilla answers pings while reading).
	replies := alive.ReadInBackground(1)
	wstest.Eventually(t, func() string {
		if n := s.Hub().Count("echo"); n != 1 {
			return "the silent client was not dropped"
		}
		return ""
	})
	// The silent client was dropped after the pong timeout; the live one, dialed at the
	// same time, must have survived the same span.
	alive.Send("still here")
	select {
	case got, ok := <-replies:
		if !ok || got != "still here" {
			t.Fatalf("got %q (open %v), the answering client must stay connected", got, ok)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo: the answering client was dropped")
	}
}

func TestGracefulShutdown(t *testing.T) {
	s := startConn(t, nil)
	c := s.dial(t, "bye")
	closed := make(chan int, 1)
	go func() { // read while the server shuts down, so the close handshake completes
		code, _ := c.ExpectClose()
		closed <- code
	}()
	s.stop(t)
	if code := <-closed; code != websocket.CloseGoingAway {
		t.Fatalf("got close code %d on shutdown, want 1001", code)
	}
	if !strings.Contains(s.log.String(), "onClose ran 1001") {
		t.Fatalf("onClose did not run before the server stopped; log:\n%s", s.log.String())
	}
}

func TestConnectionLimits(t *testing.T) {
	s := startConn(t, func(c *config.Config) { c.Server.MaxConnections = 2 })
	s.dial(t, "echo")
	s.dial(t, "echo")
	wstest.Eventually(t, func() string { // the server registers a connection just after its handshake
		if s.Hub().Count("") != 2 {
			return "connections not registered"
		}
		return ""
	})
	_, resp, err := websocket.DefaultDialer.Dial(s.url("echo"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("third connection over max_connections=2: got %v, want HTTP 503", err)
	}

	r := startConn(t, func(c *config.Config) { c.Server.HandshakeRate = 1 })
	r.dial(t, "echo")
	_, resp, err = websocket.DefaultDialer.Dial(r.url("echo"), nil)
	if err == nil || resp == nil || resp.StatusCode != http.StatusServiceUnavailable || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("second handshake within a second at handshake_rate=1: got %v, want HTTP 503 with Retry-After", err)
	}
}

func TestCompressionOptIn(t *testing.T) {
	s := startConn(t, nil)
	d := websocket.Dialer{EnableCompression: true}
	for _, tc := range []struct {
		endpoint string
		want     bool
	}{{"zip", true}, {"echo", false}} {
		ws, resp, err := d.Dial(s.url(tc.endpoint), nil)
		if err != nil {
			t.Fatal(err)
		}
		negotiated := strings.Contains(resp.Header.Get("Sec-Websocket-Extensions"), "permessage-deflate")
		if negotiated != tc.want {
			t.Fatalf("%s: permessage-deflate negotiated = %v, want %v", tc.endpoint, negotiated, tc.want)
		}
		c := wstest.NewClient(t, ws)
		big := strings.Repeat("compressible ", 1000)
		if got := c.Ask(big); got != big {
			t.Fatalf("%s: echo through compression changed the message", tc.endpoint)
		}
		ws.Close()
	}
}

// FuzzFrames sends random payloads, as text and binary frames, to an echo
// endpoint: the server never crashes, echoes every binary payload and every valid
// UTF-8 text payload unchanged, and keeps serving.
func FuzzFrames(f *testing.F) {
	f.Add([]byte("hello"), true)
	f.Add([]byte{0, 1, 2, 255}, false)
	f.Add([]byte("\xff\xfe not utf-8"), true)
	f.Add(bytes.Repeat([]byte("ab"), 5000), false)
	s := startConn(f, nil)
	ws, _, err := websocket.DefaultDialer.Dial(s.url("echo"), nil)
	if err != nil {
		f.Fatal(err)
	}
	defer ws.Close()
	f.Fuzz(func(t *testing.T, payload []byte, text bool) {
		if len(payload) > 64<<10 {
			return
		}
		kind := websocket.BinaryMessage
		if text {
			if !utf8.Valid(payload) {
				// Invalid UTF-8 in a text frame: the server must answer or close, not hang or crash.
				probe, _, err := websocket.DefaultDialer.Dial(s.url("echo"), nil)
				if err != nil {
					t.Fatal(err)
				}
				defer probe.Close()
				probe.WriteMessage(websocket.TextMessage, payload)
				probe.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, _, err := probe.ReadMessage(); err != nil {
					if _, closed := err.(*websocket.CloseError); !closed {
						t.Fatalf("invalid UTF-8 text: got %v, want a reply or a close frame", err)
					}
				}
				return
			}
			kind = websocket.TextMessage
		}
		if err := ws.WriteMessage(kind, payload); err != nil {
			t.Fatal(err)
		}
		ws.SetReadDeadline(time.Now().Add(5 * time.Second))
		gotKind, got, err := ws.ReadMessage()
		if err != nil {
			t.Fatalf("echo of %d bytes: %v", len(payload), err)
		}
		if gotKind != kind || !bytes.Equal(got, payload) {
			t.Fatalf("echo changed the frame: got type %d %q, want type %d %q", gotKind, got, kind, payload)
		}
	})
}
