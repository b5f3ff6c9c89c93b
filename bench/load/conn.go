package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// epoch is the origin of the send times written into payloads; time.Since(epoch) is
// monotonic, and sender and receiver are in this process.
var epoch = time.Now()

// stampLen is the size of the send time at the start of every payload: nanoseconds
// since epoch as 20 ASCII digits (text frames must be UTF-8).
const stampLen = 20

// now returns the current time in nanoseconds since epoch.
func now() int64 { return int64(time.Since(epoch)) }

// newPayload returns a text payload of size bytes: a send time and filler.
func newPayload(size int) []byte {
	b := make([]byte, size)
	for i := range b {
		b[i] = 'x'
	}
	return b
}

// stamp writes t into the first stampLen bytes of b.
func stamp(b []byte, t int64) {
	for i := stampLen - 1; i >= 0; i-- {
		b[i] = byte('0' + t%10)
		t /= 10
	}
}

// sentAt reads the send time at the start of b, or -1 if there is none.
func sentAt(b []byte) int64 {
	if len(b) < stampLen {
		return -1
	}
	var t int64
	for _, c := range b[:stampLen] {
		if c < '0' || c > '9' {
			return -1
		}
		t = t*10 + int64(c-'0')
	}
	return t
}

// batchConn is a net.Conn whose writes can be gathered: between begin and flush
// they go to a buffer, written in one system call by flush. Outside a batch (the
// handshake, control frames) writes go straight through. It is safe for concurrent
// use.
type batchConn struct {
	net.Conn
	mu       sync.Mutex // guards w and batching
	w        *bufio.Writer
	batching bool
}

func (c *batchConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.batching {
		return c.w.Write(p)
	}
	return c.Conn.Write(p)
}

// begin starts gathering writes.
func (c *batchConn) begin() {
	c.mu.Lock()
	c.batching = true
	c.mu.Unlock()
}

// flush writes what was gathered since begin and ends the batch.
func (c *batchConn) flush() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.batching = false
	return c.w.Flush()
}

// client is one load-generator connection.
type client struct {
	ws *websocket.Conn
	bc *batchConn
}

// dial opens one WebSocket connection to u.
func dial(ctx context.Context, u string) (*client, error) {
	var bc *batchConn
	d := websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   4096,
		WriteBufferSize:  4096,
		NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			var nd net.Dialer
			c, err := nd.DialContext(ctx, network, addr)
			if err != nil {
				return nil, err
			}
			bc = &batchConn{Conn: c}
			bc.w = bufio.NewWriterSize(c, 32<<10)
			return bc, nil
		},
	}
	ws, resp, err := d.DialContext(ctx, u, nil)
	if err != nil {
		if resp != nil {
			return nil, fmt.Errorf("%w (HTTP %s)", err, resp.Status)
		}
		return nil, err
	}
	return &client{ws: ws, bc: bc}, nil
}

// read reads the next message into buf (growing it if needed) and returns it.
func (c *client) read(buf []byte) ([]byte, error) {
	_, r, err := c.ws.NextReader()
	if err != nil {
		return buf, err
	}
	n := 0
	for {
		if n == len(buf) {
			grown := make([]byte, 2*len(buf)+64)
			copy(grown, buf)
			buf = grown
		}
		m, err := r.Read(buf[n:])
		n += m
		if errors.Is(err, io.EOF) {
			return buf[:n], nil
		}
		if err != nil {
			return buf[:n], err
		}
	}
}

// connectAll opens n connections to u with dialers handshakes at a time, retrying a
// failed handshake a few times (a server's accept backlog can overflow in a burst).
func connectAll(ctx context.Context, u string, n, dialers int) ([]*client, error) {
	if dialers <= 0 {
		dialers = 1
	}
	out := make([]*client, n)
	var next atomic.Int64
	var firstErr error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range min(dialers, n) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				var err error
				for attempt := 0; attempt < 10; attempt++ {
					if out[i], err = dial(ctx, u); err == nil || ctx.Err() != nil {
						break
					}
					time.Sleep(time.Duration(attempt+1) * 50 * time.Millisecond)
				}
				if err != nil {
					mu.Lock()
					if firstErr == nil {
						firstErr = fmt.Errorf("connection %d of %d: %w", i+1, n, err)
					}
					mu.Unlock()
					next.Store(int64(n)) // stop the other dialers
					return
				}
			}
		}()
	}
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		closeAll(out)
		return nil, firstErr
	}
	return out, nil
}

// closeAll closes every connection, sending close frames in parallel for at most a
// second before cutting the sockets.
func closeAll(cs []*client) {
	var wg sync.WaitGroup
	for _, c := range cs {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(websocket.CloseNormalClosure, ""), time.Now().Add(200*time.Millisecond))
		}()
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(time.Second):
	}
	for _, c := range cs {
		if c != nil {
			c.ws.Close()
		}
	}
}
