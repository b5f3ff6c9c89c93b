package hub

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// Conn is one open WebSocket connection. Its exported fields are set at handshake
// and never change. It is safe for concurrent use.
type Conn struct {
	ID         string
	Endpoint   string
	Project    string
	RemoteAddr string
	Header     http.Header
	Query      url.Values
	OpenedAt   time.Time
	// Slot picks the worker the connection is pinned to (modulo the worker count).
	Slot uint64

	hub      *Hub
	ws       *websocket.Conn
	out      Outbox // the outgoing queue and its writer
	inflight chan struct{}
	release  func()
	ping     *time.Timer
	handler  Handler
	rd       *readSide           // the read state of a connection that may park, or nil
	pollKey  uint64              // c's key in the poller, 0 until it first parks
	msgs     uint64              // data messages read by gorilla
	joined   map[string]struct{} // rooms of c.Project joined; guarded by hub.mu
	closeRun atomic.Bool         // a close handler has been claimed (ClaimClose)

	pongMu      sync.Mutex // guards pongPayload, pongDue and pongWriting
	pongPayload []byte     // the latest unanswered ping's payload, when pongDue
	pongDue     bool
	pongWriting bool // a pong writer runs (see pong)
}

// ClaimClose reports true to its first caller only: the one that runs the
// connection's close handler. The hub's own end of the connection and a server that
// runs the handler early (for an endpoint it removed) both claim it, so the handler
// runs once.
func (c *Conn) ClaimClose() bool { return c.closeRun.CompareAndSwap(false, true) }

// Send queues m for writing. It fails with ErrClosed once the connection is closing;
// a connection whose queue would exceed the configured bytes is closed as slow.
func (c *Conn) Send(m *Message) error {
	err := c.out.Push(m)
	if errors.Is(err, ErrOverflow) {
		c.hub.log.Warn("closing slow connection", "conn", c.ID, "endpoint", c.Endpoint, "remote", c.RemoteAddr, "queued_limit", c.hub.opts.QueueBytes)
		return ErrClosed
	}
	return err
}

// Close sends a close frame with code and reason after the frames already queued,
// then ends the connection once the peer answers (or after a short wait).
func (c *Conn) Close(code int, reason string) {
	c.out.Close(code, reason)
	c.hub.unpark(c) // a parked connection needs its reader to await the answer
}

// parkAfter is how long a reader with nothing to read waits (in Go's own network
// poller) before it parks the connection: a busy connection never parks.
const parkAfter = 100 * time.Millisecond

// errSilent ends a parked connection whose client stayed silent past PongTimeout.
var errSilent = errors.New("no frame or pong from the client")

// Serve reads frames until the connection ends, delivering them to h, then removes
// the connection from the hub. It calls h.Open first and h.Close last, exactly once.
//
// A connection that may park (Options.ParkIdle, Linux, not TLS) ends Serve early
// once it has been idle for parkAfter with gorilla's read buffer empty: its reader
// goroutine exits and the hub's poller (park_linux.go) starts a new one when the
// client sends a frame, or when the connection is closed. Only one reader runs at a
// time and each starts after the previous one stopped, so h sees the same calls, in
// the same order, as from one goroutine. While parked, the client's pings and pongs
// are read by the poller without a reader (framescan.go; pings are answered), and
// keepalive ends the connection if the client stays silent past PongTimeout.
// Parking with messages in flight is safe: the inflight semaphore is taken by
// whichever reader delivers the next message, so backpressure holds (the poller
// reads at most readBufSize bytes ahead).
func (c *Conn) Serve(h Handler) {
	opts := c.hub.opts
	c.handler = h
	c.ws.SetReadLimit(opts.ReadLimit)
	c.extendRead()
	c.ws.SetPongHandler(func(string) error { // pings and pongs reach gorilla only if c cannot park
		c.extendRead()
		return nil
	})
	c.ping = time.AfterFunc(time.Hour, c.keepalive) // armed below, once c.ping is set
	c.ping.Reset(opts.PingInterval)
	h.Open(c)
	c.read()
}

// read reads and delivers messages until the connection parks or ends.
func (c *Conn) read() {
	for {
		if c.rd != nil && c.rd.drained(c.msgs) && c.idle() {
			return // parked: a new reader resumes
		}
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			c.end(err)
			return
		}
		c.msgs++
		c.extendRead()
		c.inflight <- struct{}{}
		c.handler.Message(c, kind == websocket.BinaryMessage, data, c.release)
	}
}

// resume continues reading a connection taken out of the parked set, on a new
// goroutine.
func (c *Conn) resume() {
	c.extendRead()
	c.read()
}

// extendRead gives the client another PongTimeout to send something, unless the
// connection is closing: then the close handshake's short deadline stands.
func (c *Conn) extendRead() {
	if !c.out.Closing() {
		c.ws.SetReadDeadline(time.Now().Add(c.hub.opts.PongTimeout))
	}
}

// idle waits up to parkAfter for the client, then parks the connection. It reports
// whether the reader must stop (parked); false means there is something to read.
// Gorilla's buffer is empty, so what arrives meanwhile is read ahead (pending).
func (c *Conn) idle() bool {
	if c.out.Closing() {
		return false
	}
	nc := c.ws.NetConn()
	c.rd.seen()
	nc.SetReadDeadline(time.Now().Add(parkAfter))
	for {
		ready, timedOut := c.rd.readNow(true)
		if ready || c.out.Closing() {
			break
		}
		if timedOut {
			nc.SetReadDeadline(time.Time{})
			if p := c.hub.poller(); p != nil && p.park(c) {
				return true
			}
			break
		}
		// only pings and pongs: wait on, to the same deadline
	}
	c.resumeDeadline()
	return false
}

// resumeDeadline sets the read deadline of a reader that goes on reading.
func (c *Conn) resumeDeadline() {
	wait := c.hub.opts.PongTimeout
	if c.out.Closing() {
		wait = closeWait
	}
	c.ws.SetReadDeadline(time.Now().Add(wait))
}

// wake is called by the poller for a parked connection that has something to read
// (or an event). It reads what is there: if that was only pings and pongs, c parks again;
// otherwise a new reader goroutine takes over.
func (c *Conn) wake() {
	ready, _ := c.rd.readNow(false)
	if !ready {
		if p := c.hub.poller(); p != nil && p.park(c) {
			return
		}
	}
	go c.resume()
}

// parkable prepares c to park, if its network connection allows (plain TCP under
// the hub's batchConn). Called before c is shared.
func (c *Conn) parkable() {
	bc, ok := c.ws.NetConn().(*batchConn)
	if !ok {
		return
	}
	tc, ok := bc.Conn.(*net.TCPConn) // never TLS: it buffers records of its own
	if !ok {
		return
	}
	raw, err := tc.SyscallConn()
	if err != nil {
		return
	}
	c.rd = &readSide{raw: raw, extend: c.extendRead, pong: c.pong}
	c.rd.seen()
	bc.rd = c.rd
	bc.onClose = func() { c.hub.unpark(c) }
}

// pong answers a ping the client sent to a parkable connection, as gorilla's own
// ping handler does for the others, but on a goroutine of its own, so the reader and
// the poller never wait on a write. One writer per connection answers the latest
// ping (RFC 6455 5.5.3 allows skipping earlier ones), however many arrive; a pong
// that cannot be written within the write timeout ends the connection, as a failed
// keepalive ping does.
func (c *Conn) pong(payload []byte) {
	c.pongMu.Lock()
	defer c.pongMu.Unlock()
	c.pongPayload, c.pongDue = payload, true
	if !c.pongWriting {
		c.pongWriting = true
		go c.writePongs()
	}
}

func (c *Conn) writePongs() {
	for {
		c.pongMu.Lock()
		payload, due := c.pongPayload, c.pongDue
		c.pongPayload, c.pongDue = nil, false
		if !due {
			c.pongWriting = false
			c.pongMu.Unlock()
			return
		}
		c.pongMu.Unlock()
		err := c.ws.WriteControl(websocket.PongMessage, payload, time.Now().Add(c.hub.opts.WriteTimeout))
		if err != nil && !errors.Is(err, websocket.ErrCloseSent) {
			c.ws.NetConn().Close() // the reader sees the failure and ends the connection
		}
	}
}

// end finishes the connection after the reader's final error: reports it to the
// handler, removes the connection from the hub, and reports its close. The caller
// owns c's reading.
func (c *Conn) end(err error) {
	defer c.hub.readers.Done()
	h := c.handler
	c.ping.Stop()
	code, reason, failure := c.ending(err)
	if failure != nil {
		h.Error(c, failure)
	}
	c.out.End()
	if c.rd != nil {
		if p := c.hub.pollerIfStarted(); p != nil {
			p.forget(c)
		}
	}
	c.ws.Close()
	if c.rd != nil {
		c.rd.release()
	}
	c.hub.remove(c)
	h.Close(c, code, reason)
}

// ending turns the reader's final error into the close code and reason reported to
// the handler, and the failure worth an onError, if any.
func (c *Conn) ending(err error) (code int, reason string, failure error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		return websocket.CloseMessageTooBig, "message too big", fmt.Errorf("message larger than the limit of %d bytes", c.hub.opts.ReadLimit)
	}
	if errors.Is(err, errBadControl) {
		return websocket.CloseProtocolError, "malformed ping or pong", err
	}
	code, reason = c.out.CloseFrame()
	if code != 0 {
		return code, reason, nil // the server closed: report what it sent, not the echo
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		return ce.Code, ce.Text, nil // 1006 is gorilla's name for a dropped connection, with its error as text
	}
	if errors.Is(err, errSilent) || isTimeout(err) {
		return websocket.CloseAbnormalClosure, "", fmt.Errorf("no frame or pong from the client for %s", c.hub.opts.PongTimeout)
	}
	return websocket.CloseAbnormalClosure, "", nil
}

// keepalive pings the client and re-arms itself until the connection closes.
func (c *Conn) keepalive() {
	if c.out.Closing() {
		return
	}
	if c.rd != nil && c.rd.silentFor() > c.hub.opts.PongTimeout {
		if p := c.hub.pollerIfStarted(); p != nil && p.claim(c) {
			go c.end(errSilent) // parked: no read deadline ends it
			return
		}
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.opts.WriteTimeout)); err != nil {
		c.ws.NetConn().Close()
		return
	}
	c.ping.Reset(c.hub.opts.PingInterval)
}
