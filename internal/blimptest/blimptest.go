// Package blimptest starts a real blimp server on a loopback port for end-to-end
// tests outside package server (the examples' tests among them), and gives them a
// WebSocket client with bounded reads.
//
// Concurrency: a Server and a Client belong to the test that made them.
package blimptest

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
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
	"github.com/blimp/blimp/server"
)

// Server is a running blimp server.
type Server struct {
	*server.Server
	// Addr is host:port.
	Addr string
	// Log holds everything the server logged.
	Log  *Log
	cfg  config.Config
	stop func()
}

// Log collects a server's log; safe for concurrent use.
type Log struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *Log) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// String returns the log so far.
func (l *Log) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// WaitFor waits (bounded) until the log contains substr.
func (l *Log) WaitFor(t testing.TB, substr string) {
	t.Helper()
	Eventually(t, func() string {
		if strings.Contains(l.String(), substr) {
			return ""
		}
		return "log never contained " + substr + "; log:\n" + l.String()
	})
}

// Start serves the projects under root on 127.0.0.1 with the default config, a
// store in a temporary folder and cfg changed by tune (may be nil). The server
// stops when the test ends.
func Start(t testing.TB, root string, tune func(*config.Config)) *Server {
	t.Helper()
	cfg := config.Default()
	cfg.Projects.Root = root
	cfg.Data.Path = filepath.Join(t.TempDir(), "blimp.db")
	if tune != nil {
		tune(&cfg)
	}
	logs := &Log{}
	s, err := server.New(cfg, slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if err != nil {
		t.Fatal(err)
	}
	s.Load() // per-project errors are in the log
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
	var once sync.Once
	ts := &Server{Server: s, Addr: l.Addr().String(), Log: logs, cfg: cfg}
	ts.stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(func() {
		ts.stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	// Serve answers HTTP only once it is set up (TLS, watcher).
	Eventually(t, func() string {
		resp, err := ts.HTTPClient().Get(ts.HTTPURL("/"))
		if err != nil {
			return "server never answered: " + err.Error()
		}
		resp.Body.Close()
		return ""
	})
	return ts
}

// Stop shuts the server down gracefully and waits for it.
func (s *Server) Stop() { s.stop() }

func (s *Server) scheme(plain, secure string) string {
	if s.cfg.TLS.Enabled {
		return secure
	}
	return plain
}

// URL returns the WebSocket URL of path (absolute, e.g. "/mediabrowser"), or of an
// endpoint name under /websockets/v4/service/ when path has no leading slash.
func (s *Server) URL(path string) string {
	if !strings.HasPrefix(path, "/") {
		path = server.ServicePath + path
	}
	return s.scheme("ws", "wss") + "://" + s.Addr + path
}

// HTTPURL returns the HTTP(S) URL of path.
func (s *Server) HTTPURL(path string) string {
	return s.scheme("http", "https") + "://" + s.Addr + path
}

// tlsConfig trusts the server's self-signed certificate, if it made one.
func (s *Server) tlsConfig() *tls.Config {
	cert := s.SelfSigned()
	if cert == nil {
		return nil
	}
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	return &tls.Config{RootCAs: roots}
}

// HTTPClient returns a client that trusts the server.
func (s *Server) HTTPClient() *http.Client {
	return &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: s.tlsConfig()}}
}

// Dial connects a WebSocket client to path (see URL) and fails the test if it cannot.
func (s *Server) Dial(t testing.TB, path string) *Client {
	t.Helper()
	c, resp, err := s.TryDial(t, path, nil)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", path, err, status)
	}
	return c
}

// TryDial connects to path with extra request headers and returns the handshake
// response and error as they are.
func (s *Server) TryDial(t testing.TB, path string, header http.Header) (*Client, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: 5 * time.Second, TLSClientConfig: s.tlsConfig()}
	ws, resp, err := d.Dial(s.URL(path), header)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { ws.Close() })
	return &Client{t: t, WS: ws}, resp, nil
}

// Client is a WebSocket client whose reads fail the test after a few seconds.
type Client struct {
	t  testing.TB
	WS *websocket.Conn
}

// Send sends a text message.
func (c *Client) Send(msg string) {
	c.t.Helper()
	if err := c.WS.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("send %q: %v", msg, err)
	}
}

// Read returns the next message's type and payload.
func (c *Client) Read() (int, string) {
	c.t.Helper()
	c.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	kind, data, err := c.WS.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return kind, string(data)
}

// ReadText returns the next message, which must be text.
func (c *Client) ReadText() string {
	c.t.Helper()
	kind, data := c.Read()
	if kind != websocket.TextMessage {
		c.t.Fatalf("got a binary message %q, want text", data)
	}
	return data
}

// Expect reads the next message and checks it is the text want.
func (c *Client) Expect(want string) {
	c.t.Helper()
	if got := c.ReadText(); got != want {
		c.t.Fatalf("got message %q, want %q", got, want)
	}
}

// Ask sends msg and returns the next text message.
func (c *Client) Ask(msg string) string {
	c.t.Helper()
	c.Send(msg)
	return c.ReadText()
}

// Quiet reports whether no message arrives within d. A read that times out leaves
// a gorilla connection unusable for reading, so use Quiet as a client's last read.
func (c *Client) Quiet(d time.Duration) bool {
	c.WS.SetReadDeadline(time.Now().Add(d))
	_, _, err := c.WS.ReadMessage()
	return err != nil
}

// ExpectClose reads until the server closes the connection and returns the close
// code and reason.
func (c *Client) ExpectClose() (int, string) {
	c.t.Helper()
	c.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		_, _, err := c.WS.ReadMessage()
		if err == nil {
			continue
		}
		if ce, ok := err.(*websocket.CloseError); ok {
			return ce.Code, ce.Text
		}
		c.t.Fatalf("read ended with %v, want a close frame", err)
	}
}

// WriteFiles writes files (slash path relative to root -> content) under root.
func WriteFiles(t testing.TB, root string, files map[string]string) {
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

// Eventually polls check until it returns "" or ten seconds pass, then fails the
// test with the last complaint.
func Eventually(t testing.TB, check func() string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		msg := check()
		if msg == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal(msg)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ReadAll returns the body of resp, closed.
func ReadAll(t testing.TB, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
