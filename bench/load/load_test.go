package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// testServer serves /echo and /fanout (to every client, the sender included) with
// a write lock per connection: just enough to check the generator's counting.
func testServer(t *testing.T) string {
	t.Helper()
	up := websocket.Upgrader{}
	type conn struct {
		mu sync.Mutex
		ws *websocket.Conn
	}
	var mu sync.Mutex
	subs := map[*conn]bool{}
	mux := http.NewServeMux()
	mux.HandleFunc("/echo", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer ws.Close()
		for {
			kind, data, err := ws.ReadMessage()
			if err != nil || ws.WriteMessage(kind, data) != nil {
				return
			}
		}
	})
	mux.HandleFunc("/fanout", func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c := &conn{ws: ws}
		mu.Lock()
		subs[c] = true
		mu.Unlock()
		defer func() {
			mu.Lock()
			delete(subs, c)
			mu.Unlock()
			ws.Close()
		}()
		for {
			kind, data, err := ws.ReadMessage()
			if err != nil {
				return
			}
			mu.Lock()
			for s := range subs {
				s.mu.Lock()
				s.ws.WriteMessage(kind, data)
				s.mu.Unlock()
			}
			mu.Unlock()
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestScenarios(t *testing.T) {
	base := testServer(t)
	ctx := context.Background()
	short := params{Size: 64, Warmup: 100 * time.Millisecond, Duration: 300 * time.Millisecond, Dialers: 8, PID: os.Getpid()}

	t.Run("echo", func(t *testing.T) {
		p := short
		p.URL, p.Target, p.Conns, p.Window = base+"/echo", "test", 4, 8
		r, err := runEcho(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Count == 0 || r.Rate <= 0 || r.P50ms <= 0 || r.P99ms < r.P50ms || r.MaxMs < r.P99ms {
			t.Errorf("got count %d, rate %.0f, p50 %.3f, p99 %.3f, max %.3f; want replies with ordered latencies", r.Count, r.Rate, r.P50ms, r.P99ms, r.MaxMs)
		}
		if r.Dropped != 0 {
			t.Errorf("got %d dropped, want 0", r.Dropped)
		}
	})

	t.Run("fanout", func(t *testing.T) {
		p := short
		p.URL, p.Target, p.Subs, p.Window = base+"/fanout", "test", 10, 4
		r, err := runFanout(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		if r.Sent == 0 || r.Count == 0 || r.P99ms <= 0 {
			t.Fatalf("got %d sent, %d deliveries, p99 %.3f; want some", r.Sent, r.Count, r.P99ms)
		}
		// Every message reaches the 10 subscribers; the window's edges blur it a little.
		if per := float64(r.Count) / float64(r.Sent); per < 9 || per > 11 {
			t.Errorf("got %.2f deliveries per message sent, want about 10", per)
		}
		if len(r.Notes) > 0 || r.Dropped != 0 {
			t.Errorf("got notes %q and %d dropped, want none", r.Notes, r.Dropped)
		}
	})

	t.Run("idle", func(t *testing.T) {
		p := short
		p.URL, p.Target, p.Conns, p.Settle = base+"/echo", "test", 50, 10*time.Millisecond
		defer func(n int, gap time.Duration) { rssSamples, rssGap = n, gap }(rssSamples, rssGap)
		rssSamples, rssGap = 2, 10*time.Millisecond
		r, err := runIdle(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		// The server is this process: it grows by the server's and the client's ends.
		if r.Conns != 50 || r.RSSBefore <= 0 || r.RSSAfter <= 0 || r.RSSMid <= 0 {
			t.Errorf("got %d conns, RSS %d -> %d (mid %d); want 50 and samples", r.Conns, r.RSSBefore, r.RSSAfter, r.RSSMid)
		}
	})
}

func TestCheckURL(t *testing.T) {
	for _, tc := range []struct {
		url    string
		remote bool
		ok     bool
	}{
		{"ws://127.0.0.1:8080/x", false, true},
		{"ws://localhost:8080/x", false, true},
		{"ws://[::1]:8080/x", false, true},
		{"wss://127.0.0.2/x", false, true},
		{"ws://10.0.0.1:8080/x", false, false},
		{"ws://example.com/x", false, false},
		{"ws://example.com/x", true, true},
		{"http://127.0.0.1/x", false, false},
		{"", false, false},
	} {
		err := checkURL(tc.url, tc.remote)
		if (err == nil) != tc.ok {
			t.Errorf("checkURL(%q, %v) = %v, want ok %v", tc.url, tc.remote, err, tc.ok)
		}
	}
}
