package hub

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"sync"
)

// maxBatch is how many bytes a writer gathers before it writes them out anyway.
const maxBatch = 64 << 10

// batchPool holds the buffers writers gather frames in, so an idle connection
// holds none.
var batchPool = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// batchConn is the network connection under a WebSocket (made by Batching for a
// server's connections, by DialBatching for clients'). While a batch is open
// (begin ... flush: an Outbox's writer, once per wake-up) the frames gorilla writes are
// gathered and go out in one write; otherwise (the handshake, pings from keepalive)
// writes pass straight through. On a server connection that may park (see
// poller), rd follows the frames gorilla reads (framescan.go) and onClose hands a
// parked connection back to a reader when the network connection is closed under
// it. It is safe for concurrent use; Read is called by one reader at a time.
type batchConn struct {
	net.Conn
	rd      *readSide // set before the connection is shared, or nil
	onClose func()    // set before the connection is shared, or nil

	mu       sync.Mutex // guards buf and batching
	batching bool
	buf      *[]byte
}

func (b *batchConn) Read(p []byte) (int, error) {
	if b.rd == nil {
		return b.Conn.Read(p)
	}
	return b.rd.read(b.Conn, p)
}

// Close closes the socket first and only then lets the hub take the connection out
// of the poller: a reader parking in between then fails to arm the closed socket and
// takes the connection back itself, so it is never left parked on a closed socket.
func (b *batchConn) Close() error {
	err := b.Conn.Close()
	if b.onClose != nil {
		b.onClose()
	}
	return err
}

func (b *batchConn) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.batching {
		return b.Conn.Write(p)
	}
	if b.buf == nil {
		b.buf = batchPool.Get().(*[]byte)
	}
	*b.buf = append(*b.buf, p...)
	if len(*b.buf) >= maxBatch {
		if err := b.writeLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// begin opens a batch.
func (b *batchConn) begin() {
	b.mu.Lock()
	b.batching = true
	b.mu.Unlock()
}

// flush closes the batch and writes what it gathered.
func (b *batchConn) flush() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.batching = false
	err := b.writeLocked()
	if b.buf != nil {
		*b.buf = (*b.buf)[:0]
		if cap(*b.buf) <= maxBatch*2 {
			batchPool.Put(b.buf)
		}
		b.buf = nil
	}
	return err
}

func (b *batchConn) writeLocked() error {
	if b.buf == nil || len(*b.buf) == 0 {
		return nil
	}
	_, err := b.Conn.Write(*b.buf)
	*b.buf = (*b.buf)[:0]
	return err
}

// Batching wraps w so that the connection a WebSocket upgrade hijacks from it writes
// frames in batches. Use it on the ResponseWriter handed to the upgrader.
func Batching(w http.ResponseWriter) http.ResponseWriter {
	if _, ok := w.(http.Hijacker); !ok {
		return w
	}
	return batchingWriter{w}
}

type batchingWriter struct{ http.ResponseWriter }

func (w batchingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, rw, err := w.ResponseWriter.(http.Hijacker).Hijack()
	if err != nil {
		return nil, nil, err
	}
	return &batchConn{Conn: c}, rw, nil
}

// DialBatching dials addr as a zero net.Dialer does and returns a connection on which
// an Outbox writes frames in batches. Use it as a websocket.Dialer's NetDialContext;
// over wss:// the frames' TLS records are gathered beneath the TLS layer.
func DialBatching(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := new(net.Dialer).DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &batchConn{Conn: c}, nil
}
