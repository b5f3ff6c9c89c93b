package server

import (
	"net/http"
	"path/filepath"
	"testing"
	"time"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

// The WebSocket client, the log sink, file writing, bounded polling and the
// loopback listener of these tests are package wstest's; what follows is what
// needs the internal *Server.

// testServer is a real server on a loopback port.
type testServer struct {
	*Server
	addr   string
	log    *wstest.Log
	stopFn func()
}

// start serves the projects under root on 127.0.0.1, with cfg changed by tune.
func start(t testing.TB, root string, tune func(*config.Config)) *testServer {
	t.Helper()
	cfg := config.Default()
	cfg.Projects.Root = root
	cfg.Data.Path = filepath.Join(t.TempDir(), "blimp.db")
	cfg.Server.HTTPBodyLimit = 1024
	if tune != nil {
		tune(&cfg)
	}
	logs := &wstest.Log{}
	s, err := New(cfg, logs.Logger())
	if err != nil {
		t.Fatal(err)
	}
	s.Load() // per-project errors are in the log and the statuses
	addr, stop := wstest.Serve(t, s.Serve)
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("server log:\n%s", logs.String())
		}
	})
	// Serve sets up the watcher before it answers HTTP: once it answers, it watches.
	for i := 0; ; i++ {
		resp, err := http.Get("http://" + addr + "/")
		if err == nil {
			resp.Body.Close()
			break
		}
		if i > 500 {
			t.Fatalf("server never answered: %v", err)
		}
		time.Sleep(5 * time.Millisecond)
	}
	return &testServer{Server: s, addr: addr, log: logs, stopFn: stop}
}

// stop shuts the server down gracefully and waits until it has (store closed).
func (s *testServer) stop(t *testing.T) { s.stopFn() }

// startFiles writes files into a fresh projects root and serves it.
func startFiles(t *testing.T, files map[string]string) *testServer {
	t.Helper()
	return startFilesWith(t, files, nil)
}

// startFilesWith writes files into a fresh projects root and serves it with the
// config changed by tune.
func startFilesWith(t testing.TB, files map[string]string, tune func(*config.Config)) *testServer {
	t.Helper()
	root := t.TempDir()
	wstest.WriteFiles(t, root, files)
	return start(t, root, tune)
}

func (s *testServer) url(endpoint string) string {
	return "ws://" + s.addr + ServicePath + endpoint
}

func (s *testServer) dial(t *testing.T, endpoint string) *wstest.Client {
	t.Helper()
	return s.dialHeader(t, endpoint, nil)
}

// dialHeader dials endpoint (which may end in a query) with extra request headers.
func (s *testServer) dialHeader(t *testing.T, endpoint string, header http.Header) *wstest.Client {
	t.Helper()
	return wstest.Dial(t, s.url(endpoint), header, nil)
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
