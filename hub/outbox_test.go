package hub

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/internal/wstest"
)

// The Outbox tests attach an outbox to the client end of a real WebSocket connection
// (as sdk/net's outbound clients do) and read what arrives at the server end.

// countingConn is a network connection that counts the writes reaching the network,
// can be made to fail them, and records that it was closed.
type countingConn struct {
	net.Conn
	writes atomic.Int32
	fail   atomic.Bool
	closed atomic.Bool
}

func (c *countingConn) Write(p []byte) (int, error) {
	if c.fail.Load() {
		return 0, errors.New("write refused by the test")
	}
	c.writes.Add(1)
	return c.Conn.Write(p)
}

func (c *countingConn) Close() error {
	c.closed.Store(true)
	return c.Conn.Close()
}

// peer is a WebSocket connection between a client end, for an Outbox, and a server end.
type peer struct {
	client *websocket.Conn
	raw    *countingConn // the client's TCP connection, beneath batching (and TLS)
	server *websocket.Conn
}

// dialPeer connects a client to a test server, over TLS with tlsOn, through a
// batching connection as DialBatching makes it.
func dialPeer(t *testing.T, tlsOn bool) *peer {
	t.Helper()
	conns := make(chan *websocket.Conn, 1)
	var up websocket.Upgrader
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns <- ws
	})
	p := &peer{}
	d := websocket.Dialer{
		HandshakeTimeout: 5 * time.Second,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := new(net.Dialer).DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			p.raw = &countingConn{Conn: c}
			return &batchConn{Conn: p.raw}, nil
		},
	}
	var srv *httptest.Server
	if tlsOn {
		srv = httptest.NewTLSServer(handler)
		roots := x509.NewCertPool()
		roots.AddCert(srv.Certificate())
		d.TLSClientConfig = &tls.Config{RootCAs: roots}
	} else {
		srv = httptest.NewServer(handler)
	}
	t.Cleanup(srv.Close)
	ws, _, err := d.Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ws.Close() })
	p.client = ws
	select {
	case p.server = <-conns:
		t.Cleanup(func() { p.server.Close() })
	case <-time.After(5 * time.Second):
		t.Fatal("the server saw no connection")
	}
	return p
}

// read returns the next frame at the server end as "text:...", "binary:[...]" or
// "close:code reason".
func (p *peer) read(t *testing.T) string {
	t.Helper()
	p.server.SetReadDeadline(time.Now().Add(5 * time.Second))
	kind, data, err := p.server.ReadMessage()
	var ce *websocket.CloseError
	switch {
	case errors.As(err, &ce):
		return fmt.Sprintf("close:%d %s", ce.Code, ce.Text)
	case err != nil:
		t.Fatalf("server read: %v", err)
	case kind == websocket.BinaryMessage:
		return fmt.Sprintf("binary:%v", data)
	}
	return "text:" + string(data)
}

// expect checks the next frames at the server end, in order.
func (p *peer) expect(t *testing.T, want ...string) {
	t.Helper()
	for _, w := range want {
		if got := p.read(t); got != w {
			t.Fatalf("server got %q, want %q", got, w)
		}
	}
}

func TestOutboxWritesWhatWasQueuedBeforeAttachInOneWrite(t *testing.T) {
	for _, tlsOn := range []bool{false, true} {
		t.Run(fmt.Sprintf("tls=%v", tlsOn), func(t *testing.T) {
			var o Outbox // the zero value: no limit, no connection yet
			prepared := NewText("three")
			prepared.Prepared()
			for _, m := range []*Message{NewText("one"), NewBinary([]byte{1, 2}), prepared} {
				if err := o.Push(m); err != nil {
					t.Fatalf("Push before Attach: got %v, want nil", err)
				}
			}
			o.Close(4000, "done")
			if err := o.Push(NewText("late")); !errors.Is(err, ErrClosed) {
				t.Fatalf("Push after Close: got %v, want ErrClosed", err)
			}
			o.Close(1000, "again") // ignored: the queue has its close frame
			if code, reason := o.CloseFrame(); code != 4000 || reason != "done" {
				t.Fatalf("CloseFrame() = %d %q, want 4000 done", code, reason)
			}

			p := dialPeer(t, tlsOn)
			p.raw.writes.Store(0) // count from here: the handshake is done
			o.Attach(p.client)
			p.expect(t, "text:one", "binary:[1 2]", "text:three", "close:4000 done")
			if n := p.raw.writes.Load(); n != 1 {
				t.Fatalf("the frames of one wake-up reached the network in %d writes, want 1", n)
			}
		})
	}
}

func TestOutboxKeepsOrderAndStopsItsWriter(t *testing.T) {
	p := dialPeer(t, false)
	o := Outbox{Limit: 1 << 20, WriteTimeout: 5 * time.Second}
	o.Attach(p.client)
	const n = 500
	go func() {
		for i := range n {
			if err := o.Push(NewText(fmt.Sprint(i))); err != nil {
				t.Errorf("Push %d: %v", i, err)
				return
			}
		}
	}()
	for i := range n {
		p.expect(t, fmt.Sprintf("text:%d", i))
	}
	wstest.Eventually(t, func() string {
		o.mu.Lock()
		defer o.mu.Unlock()
		if o.writing || o.queued != 0 {
			return fmt.Sprintf("after the queue drained: writing = %v, queued = %d bytes, want no writer and 0", o.writing, o.queued)
		}
		return ""
	})
}

func TestOutboxOverflow(t *testing.T) {
	for _, tc := range []struct {
		name        string
		abort       bool
		attachFirst bool
		wantClosed  bool // the network connection is closed without waiting for the peer
	}{
		{"close frame queued", false, false, false},
		{"abort while attached", true, true, true},
		{"abort before attach queues the close frame", true, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := dialPeer(t, false)
			o := Outbox{Limit: 10, OverflowReason: "too much", AbortOverflow: tc.abort}
			if tc.attachFirst {
				o.Attach(p.client)
				if err := o.Push(NewText("12345678901")); !errors.Is(err, ErrOverflow) {
					t.Fatalf("Push of 11 bytes with Limit 10: got %v, want ErrOverflow", err)
				}
			} else {
				if err := o.Push(NewText("12345678")); err != nil {
					t.Fatalf("Push of 8 bytes with Limit 10: got %v, want nil", err)
				}
				if err := o.Push(NewText("abc")); !errors.Is(err, ErrOverflow) {
					t.Fatalf("Push past Limit: got %v, want ErrOverflow", err)
				}
			}
			if err := o.Push(NewText("x")); !errors.Is(err, ErrClosed) {
				t.Fatalf("Push after the overflow: got %v, want ErrClosed", err)
			}
			o.Close(1000, "") // ignored: closing already
			if code, reason := o.CloseFrame(); code != websocket.ClosePolicyViolation || reason != "too much" {
				t.Fatalf("CloseFrame() = %d %q, want 1008 too much", code, reason)
			}
			if !tc.attachFirst {
				o.Attach(p.client)
			}
			p.expect(t, "close:1008 too much") // the backlog was dropped: nothing before it
			if tc.wantClosed {
				wstest.Eventually(t, func() string {
					if !p.raw.closed.Load() {
						return "the aborted connection was not closed"
					}
					return ""
				})
			} else if p.raw.closed.Load() {
				t.Fatal("the network connection was closed: the close frame should wait for the peer's answer")
			}
		})
	}
}

func TestOutboxWriteErrorIsReportedBeforeClosing(t *testing.T) {
	p := dialPeer(t, false)
	type report struct {
		err    error
		closed bool
	}
	reports := make(chan report, 2)
	o := Outbox{OnWriteError: func(err error) { reports <- report{err, p.raw.closed.Load()} }}
	o.Attach(p.client)
	p.raw.fail.Store(true)
	if err := o.Push(NewText("lost")); err != nil {
		t.Fatalf("Push: got %v, want nil (the write fails later)", err)
	}
	select {
	case r := <-reports:
		if r.err == nil || !strings.Contains(r.err.Error(), "refused by the test") {
			t.Fatalf("OnWriteError got %v, want the write's error", r.err)
		}
		if r.closed {
			t.Fatal("OnWriteError ran after the network connection was closed, want before")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("OnWriteError was not called")
	}
	wstest.Eventually(t, func() string {
		if !p.raw.closed.Load() {
			return "the network connection was not closed after the failed write"
		}
		return ""
	})
	if err := o.Push(NewText("after")); !errors.Is(err, ErrClosed) {
		t.Fatalf("Push after a failed write: got %v, want ErrClosed", err)
	}
	if !o.Closing() {
		t.Fatal("Closing() = false after a failed write, want true")
	}
	select {
	case r := <-reports:
		t.Fatalf("OnWriteError called again with %v, want once", r.err)
	default:
	}
}

func TestDialBatching(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	c, err := DialBatching(context.Background(), "tcp", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, ok := c.(*batchConn); !ok {
		t.Fatalf("DialBatching returned a %T, want a *batchConn", c)
	}
	if _, err := DialBatching(context.Background(), "tcp", "127.0.0.1:1"); err == nil {
		t.Fatal("DialBatching to a closed port: got no error")
	}
}
