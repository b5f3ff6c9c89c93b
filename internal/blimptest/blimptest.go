// Package blimptest starts a real blimp server on a loopback port for end-to-end
// tests outside package server (the examples' tests among them), and gives them a
// WebSocket client with bounded reads. The client, log, polling and listener
// helpers are package wstest's, which package server's own tests share.
//
// Concurrency: a Server and a Client belong to the test that made them; a Log is
// safe for concurrent use.
package blimptest

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
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
type Log = wstest.Log

// Client is a WebSocket client whose reads fail the test after a few seconds.
type Client = wstest.Client

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
	s, err := server.New(cfg, logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	s.Load() // per-project errors are in the log
	addr, stop := wstest.Serve(t, s.Serve)
	ts := &Server{Server: s, Addr: addr, Log: logs, cfg: cfg, stop: stop}
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
	return wstest.Dial(t, s.URL(path), nil, s.tlsConfig())
}

// TryDial connects to path with extra request headers and returns the handshake
// response and error as they are.
func (s *Server) TryDial(t testing.TB, path string, header http.Header) (*Client, *http.Response, error) {
	return wstest.TryDial(t, s.URL(path), header, s.tlsConfig())
}

// WriteFiles writes files (slash path relative to root -> content) under root.
func WriteFiles(t testing.TB, root string, files map[string]string) {
	t.Helper()
	wstest.WriteFiles(t, root, files)
}

// Eventually polls check until it returns "" or ten seconds pass, then fails the
// test with the last complaint.
func Eventually(t testing.TB, check func() string) {
	t.Helper()
	wstest.Eventually(t, check)
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
