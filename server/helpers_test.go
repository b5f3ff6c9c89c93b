package server

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
)

// logBuffer collects the server log for assertions. It is safe for concurrent use.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor polls cond until it holds or the deadline passes.
func (b *logBuffer) waitFor(t *testing.T, substr string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(b.String(), substr) {
		if time.Now().After(deadline) {
			t.Fatalf("log never contained %q; log:\n%s", substr, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitForLine polls until one line of the log contains every one of substrs, and
// returns that line.
func (b *logBuffer) waitForLine(t *testing.T, substrs ...string) string {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		for _, line := range strings.Split(b.String(), "\n") {
			if containsAll(line, substrs...) {
				return line
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no log line contained all of %q; log:\n%s", substrs, b.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// containsAll reports whether s contains every one of substrs.
func containsAll(s string, substrs ...string) bool {
	for _, sub := range substrs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// testServer is a real server on a loopback port.
type testServer struct {
	*Server
	addr   string
	log    *logBuffer
	stopFn func()
}

// writeFiles writes files (path relative to root -> content) under root.
func writeFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// start serves the projects under root on 127.0.0.1, with cfg changed by tune.
func start(t testing.TB, root string, tune func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Projects.Root = root
	cfg.Data.Path = filepath.Join(t.TempDir(), "blimp.db")
	cfg.Runtime.EventTimeout.Duration = 500 * time.Millisecond
	cfg.Server.HTTPBodyLimit = 1024
	if tune != nil {
		tune(&cfg)
	}
	logs := &logBuffer{}
	s, err := New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	s.Load() // per-project errors are in the log and the statuses
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		s.Serve(ctx, l)
		close(done)
	}()
	// Serve sets up the watcher before it answers HTTP: once it answers, it watches.
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + l.Addr().String() + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 500 {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	var once sync.Once
	stop := func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	return &testServer{Server: s, addr: l.Addr().String(), log: logs, stopFn: stop}
}

// stop shuts the server down gracefully and waits until it has (store closed).
func (s *testServer) stop(t *testing.T) { s.stopFn() }

// startFiles writes files into a fresh projects root and serves it.
func startFiles(t *testing.T, files map[string]string) *testServer {
	t.Helper()
	root := t.TempDir()
	writeFiles(t, root, files)
	return start(t, root, nil)
}

func (s *testServer) url(endpoint string) string {
	return "ws://" + s.addr + ServicePath + endpoint
}

// client is a WebSocket client with read deadlines, for tests.
type client struct {
	t  *testing.T
	ws *websocket.Conn
}

func (s *testServer) dial(t *testing.T, endpoint string) *client {
	t.Helper()
	return s.dialHeader(t, endpoint, nil)
}

// dialHeader dials endpoint (which may end in a query) with extra request headers.
func (s *testServer) dialHeader(t *testing.T, endpoint string, header http.Header) *client {
	t.Helper()
	ws, resp, err := websocket.DefaultDialer.Dial(s.url(endpoint), header)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", endpoint, err, status)
	}
	t.Cleanup(func() { ws.Close() })
	return &client{t: t, ws: ws}
}

func (c *client) send(msg string) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("send %q: %v", msg, err)
	}
}

// on returns c reporting its failures to t, for using a client of a test in its
// subtests (a subtest must not call FailNow on its parent).
func (c *client) on(t *testing.T) *client {
	return &client{t: t, ws: c.ws}
}

func (c *client) sendBinary(b []byte) {
	c.t.Helper()
	if err := c.ws.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("send binary %x: %v", b, err)
	}
}

// waitConns polls until endpoint has n open connections in the hub, so that a
// broadcast is known to reach every client dialed so far.
func (s *testServer) waitConns(t *testing.T, endpoint string, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Hub().Count(endpoint) != n {
		if time.Now().After(deadline) {
			t.Fatalf("endpoint %s: got %d connections, want %d", endpoint, s.Hub().Count(endpoint), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// read returns the next message's type and payload, failing after a few seconds.
func (c *client) read() (int, string) {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	kind, data, err := c.ws.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return kind, string(data)
}

// expect reads the next message and checks it is the text want.
func (c *client) expect(want string) {
	c.t.Helper()
	kind, got := c.read()
	if kind != websocket.TextMessage || got != want {
		c.t.Fatalf("got message %q (type %d), want text %q", got, kind, want)
	}
}

// closeWith sends a close frame with code and reason.
func (c *client) closeWith(code int, reason string) {
	c.t.Helper()
	msg := websocket.FormatCloseMessage(code, reason)
	if err := c.ws.WriteControl(websocket.CloseMessage, msg, time.Now().Add(time.Second)); err != nil {
		c.t.Fatalf("close %d: %v", code, err)
	}
}

// expectClose reads until the connection closes and returns the close code.
func (c *client) expectClose() (int, string) {
	c.t.Helper()
	c.ws.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.ws.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code, ce.Text
		}
		c.t.Fatalf("read ended with %v, want a close frame", err)
	}
}
