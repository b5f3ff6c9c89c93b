//go:build linux

package server

import (
	"crypto/tls"
	"crypto/x509"
	"net"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

var parkProject = map[string]string{
	"p/echo.websocket": `{"endpoint": "echo", "handler": "p/echo"}`,
	"p/echo.js": `
export const onMessage = (m) => m;
export function onError(error, conn) { console.log("onError", conn.id, String(error)); }
export function onClose(conn, code, reason) { console.log("onClose", conn.id, code, reason); }`,
}

// startPark serves parkProject with pings every 50ms and a 300ms pong timeout.
func startPark(t *testing.T, tune func(*config.Config)) *testServer {
	t.Helper()
	return startFilesWith(t, parkProject, func(c *config.Config) {
		c.Server.PingInterval.Duration = 50 * time.Millisecond
		c.Server.PongTimeout.Duration = 300 * time.Millisecond
		if tune != nil {
			tune(c)
		}
	})
}

// waitParked polls until at least n connections are parked.
func (s *testServer) waitParked(t *testing.T, n int) {
	t.Helper()
	wstest.Eventually(t, func() string {
		if got := s.Hub().Parked(); got < n {
			return "parked connections: got " + itoa(got) + ", want at least " + itoa(n)
		}
		return ""
	})
}

func itoa(n int) string { return strconv.Itoa(n) }

func TestIdleConnectionsPark(t *testing.T) {
	s := startPark(t, func(c *config.Config) {
		c.Server.PingInterval.Duration = time.Second
		c.Server.PongTimeout.Duration = 5 * time.Second
	})
	const n = 200
	base := runtime.NumGoroutine()
	clients := make([]*wstest.Client, n)
	for i := range clients {
		clients[i] = s.dial(t, "echo")
	}
	clients[0].Ask("one message first") // a connection that has spoken parks too
	s.waitParked(t, n*9/10)
	// Client-side each connection holds no goroutine (the tests' clients do not read
	// in the background), so the server's parked ones hold none either.
	if grown := runtime.NumGoroutine() - base; grown > n/4 {
		t.Fatalf("got %d more goroutines for %d idle connections, want under %d", grown, n, n/4)
	}
	// Parked connections wake for a message and reply, then park again.
	for i := 0; i < n; i += 37 {
		if got := clients[i].Ask("wake " + itoa(i)); got != "wake "+itoa(i) {
			t.Fatalf("got %q, want the echo", got)
		}
	}
	s.waitParked(t, n*9/10)
}

func TestParkedKeepaliveAndSilentClient(t *testing.T) {
	s := startPark(t, nil)
	alive := s.dial(t, "echo")
	silent := s.dial(t, "echo") // reads nothing, so it never answers a ping
	_ = silent
	aliveID, silentID := "", ""
	wstest.Eventually(t, func() string {
		for _, c := range s.Hub().Connections("echo") {
			if c.RemoteAddr == alive.WS.LocalAddr().String() {
				aliveID = c.ID
			} else {
				silentID = c.ID
			}
		}
		if aliveID == "" || silentID == "" {
			return "connections not registered"
		}
		return ""
	})
	replies := alive.ReadInBackground(4) // gorilla answers pings while reading
	// The silent one is dropped while parked, reported as a failure then a close.
	line := s.log.WaitForLine(t, "onClose", silentID)
	if !strings.Contains(line, "1006") {
		t.Fatalf("got %q, want close 1006 for the silent client", line)
	}
	if !strings.Contains(s.log.String(), "onError "+silentID) {
		t.Fatalf("no onError before onClose for the silent client; log:\n%s", s.log.String())
	}
	// The answering one lives on well past the pong timeout, parked between pings.
	parkedSeen := 0
	for end := time.Now().Add(1500 * time.Millisecond); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		parkedSeen += s.Hub().Parked()
	}
	if parkedSeen == 0 {
		t.Fatal("the answering client was never parked between pings")
	}
	alive.WS.WriteMessage(websocket.TextMessage, []byte("still here"))
	select {
	case got, ok := <-replies:
		if !ok || got != "still here" {
			t.Fatalf("got %q (open %v), the answering client must stay connected", got, ok)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo: the answering client was dropped")
	}
	if strings.Contains(s.log.String(), "onClose "+aliveID) {
		t.Fatal("the answering client was closed")
	}
}

func TestParkedClose(t *testing.T) {
	s := startPark(t, func(c *config.Config) {
		c.Server.PingInterval.Duration = time.Second
		c.Server.PongTimeout.Duration = 5 * time.Second
	})
	t.Run("client close", func(t *testing.T) {
		c := s.dial(t, "echo")
		c.Ask("hello")
		s.waitParked(t, 1)
		c.CloseWith(4001, "done")
		s.log.WaitForLine(t, "onClose", "4001 done")
	})
	t.Run("tcp drop", func(t *testing.T) {
		c := s.dial(t, "echo")
		c.Ask("hello")
		s.waitParked(t, 1)
		c.WS.NetConn().(*net.TCPConn).SetLinger(0)
		c.WS.NetConn().Close()
		wstest.Eventually(t, func() string {
			if s.Hub().Count("echo") != 0 {
				return "the dropped connection is still open"
			}
			return ""
		})
		if n := strings.Count(s.log.String(), "onClose"); n != 2 || !strings.Contains(s.log.String(), "1006") {
			t.Fatalf("want one more onClose with 1006; log:\n%s", s.log.String())
		}
	})
	t.Run("server shutdown", func(t *testing.T) {
		c := s.dial(t, "echo")
		s.waitParked(t, 1)
		closed := make(chan int, 1)
		go func() { code, _ := c.ExpectClose(); closed <- code }()
		s.stop(t)
		if code := <-closed; code != websocket.CloseGoingAway {
			t.Fatalf("got close code %d, want 1001", code)
		}
	})
}

func TestParkedPipelinedAndLarge(t *testing.T) {
	s := startPark(t, func(c *config.Config) {
		c.Server.PingInterval.Duration = time.Second
		c.Server.PongTimeout.Duration = 5 * time.Second
	})
	c := s.dial(t, "echo")
	for round := 0; round < 3; round++ {
		s.waitParked(t, 1)
		// Pipelined: many messages in one burst, read back in order.
		const k = 50
		for i := 0; i < k; i++ {
			c.Send("m" + itoa(i))
		}
		for i := 0; i < k; i++ {
			c.Expect("m" + itoa(i))
		}
		s.waitParked(t, 1)
		// Large, and fragmented into several frames.
		big := strings.Repeat("x", 200_000)
		c.Send(big)
		if got := c.ReadText(); got != big {
			t.Fatalf("got %d bytes, want the 200000-byte echo", len(got))
		}
		w, err := c.WS.NextWriter(websocket.TextMessage)
		if err != nil {
			t.Fatal(err)
		}
		for i := 0; i < 5; i++ {
			w.Write([]byte(strings.Repeat(itoa(i), 10_000)))
			if f, ok := w.(interface{ Flush() error }); ok {
				f.Flush()
			}
			time.Sleep(30 * time.Millisecond) // let the server see each fragment apart
		}
		w.Close()
		if got := c.ReadText(); len(got) != 50_000 || got[:1] != "0" || got[49_999:] != "4" {
			t.Fatalf("got %d bytes, want the 50000-byte fragmented echo", len(got))
		}
	}
}

func TestTLSConnectionsDoNotPark(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, parkProject)
	s := start(t, root, func(c *config.Config) { c.TLS.Enabled = true })
	roots := x509.NewCertPool()
	roots.AddCert(s.SelfSigned())
	c := wstest.Dial(t, "wss://"+s.addr+ServicePath+"echo", nil, &tls.Config{RootCAs: roots})
	for i := 0; i < 3; i++ {
		if got := c.Ask("secure"); got != "secure" {
			t.Fatalf("got %q, want the echo", got)
		}
		time.Sleep(150 * time.Millisecond) // past parkAfter
		if n := s.Hub().Parked(); n != 0 {
			t.Fatalf("got %d parked connections over TLS, want 0", n)
		}
	}
}

func TestParkIdleOff(t *testing.T) {
	s := startPark(t, func(c *config.Config) {
		c.Server.ParkIdle = false
		c.Server.PingInterval.Duration = time.Second
		c.Server.PongTimeout.Duration = 5 * time.Second
	})
	c := s.dial(t, "echo")
	c.Ask("hello")
	time.Sleep(300 * time.Millisecond) // past parkAfter: a connection would have parked
	if n := s.Hub().Parked(); n != 0 {
		t.Fatalf("got %d parked connections with park_idle = false, want 0", n)
	}
	if got := c.Ask("again"); got != "again" {
		t.Fatalf("got %q, want the echo", got)
	}
}

func TestParkedClientPingsAreAnsweredWithoutWaking(t *testing.T) {
	s := startPark(t, func(c *config.Config) {
		c.Server.PingInterval.Duration = time.Second
		c.Server.PongTimeout.Duration = 5 * time.Second
	})
	c := s.dial(t, "echo")
	pongs := make(chan string, 8)
	c.WS.SetPongHandler(func(data string) error { pongs <- data; return nil })
	replies := c.ReadInBackground(8) // gorilla handles control frames while reading
	s.waitParked(t, 1)
	for i := range 3 {
		want := "ping " + itoa(i)
		if err := c.WS.WriteControl(websocket.PingMessage, []byte(want), time.Now().Add(time.Second)); err != nil {
			t.Fatal(err)
		}
		select {
		case got := <-pongs:
			if got != want {
				t.Fatalf("got pong %q, want %q (the ping's payload)", got, want)
			}
		case <-time.After(5 * time.Second):
			t.Fatalf("no pong for %q", want)
		}
		s.waitParked(t, 1) // a ping does not keep a reader awake
	}
	if err := c.WS.WriteMessage(websocket.TextMessage, []byte("after pings")); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-replies:
		if got != "after pings" {
			t.Fatalf("got %q, want the echo", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no echo after the pings")
	}
}

// A client that floods pings and never reads costs one pong writer, not one
// goroutine per ping.
func TestParkedPingFloodIsBounded(t *testing.T) {
	s := startPark(t, func(c *config.Config) {
		c.Server.PingInterval.Duration = time.Minute
		c.Server.PongTimeout.Duration = time.Minute
	})
	var raw net.Conn
	d := websocket.Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		c, err := net.Dial(network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetReadBuffer(4096) // pongs pile up unread: the server's writes block
		}
		raw = c
		return c, err
	}}
	ws, _, err := d.Dial(s.url("echo"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer ws.Close()
	s.waitParked(t, 1)
	before := runtime.NumGoroutine()
	ping := append([]byte{0x89, 0x80 | 125, 1, 2, 3, 4}, make([]byte, 125)...)
	go func() {
		for range 2000 {
			if _, err := raw.Write(ping); err != nil {
				return
			}
		}
	}()
	peak := before
	for end := time.Now().Add(time.Second); time.Now().Before(end); time.Sleep(time.Millisecond) {
		peak = max(peak, runtime.NumGoroutine())
	}
	t.Logf("goroutines: before %d, peak %d", before, peak)
	if grown := peak - before; grown > 20 {
		t.Fatalf("goroutines grew by %d while one client flooded pings, want a bounded few", grown)
	}
}
