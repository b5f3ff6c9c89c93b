package hub

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
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
	joined   map[string]struct{} // rooms of c.Project joined; guarded by hub.mu
}

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
func (c *Conn) Close(code int, reason string) { c.out.Close(code, reason) }

// Serve reads frames until the connection ends, delivering them to h, then removes
// the connection from the hub. It calls h.Open first and h.Close last, exactly once.
func (c *Conn) Serve(h Handler) {
	defer c.hub.readers.Done()
	opts := c.hub.opts
	c.ws.SetReadLimit(opts.ReadLimit)
	c.ws.SetReadDeadline(time.Now().Add(opts.PongTimeout))
	c.ws.SetPongHandler(func(string) error {
		return c.ws.SetReadDeadline(time.Now().Add(opts.PongTimeout))
	})
	c.ping = time.AfterFunc(opts.PingInterval, c.keepalive)
	h.Open(c)

	var err error
	for {
		var kind int
		var data []byte
		kind, data, err = c.ws.ReadMessage()
		if err != nil {
			break
		}
		c.ws.SetReadDeadline(time.Now().Add(opts.PongTimeout))
		c.inflight <- struct{}{}
		h.Message(c, kind == websocket.BinaryMessage, data, c.release)
	}
	c.ping.Stop()

	code, reason, failure := c.ending(err)
	if failure != nil {
		h.Error(c, failure)
	}
	c.out.End()
	c.ws.Close()
	c.hub.remove(c)
	h.Close(c, code, reason)
}

// ending turns the reader's final error into the close code and reason reported to
// the handler, and the failure worth an onError, if any.
func (c *Conn) ending(err error) (code int, reason string, failure error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		return websocket.CloseMessageTooBig, "message too big", fmt.Errorf("message larger than the limit of %d bytes", c.hub.opts.ReadLimit)
	}
	code, reason = c.out.CloseFrame()
	if code != 0 {
		return code, reason, nil // the server closed: report what it sent, not the echo
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code, ce.Text, nil
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return websocket.CloseAbnormalClosure, "", fmt.Errorf("no frame or pong from the client for %s", c.hub.opts.PongTimeout)
	}
	return websocket.CloseAbnormalClosure, "", nil
}

// keepalive pings the client and re-arms itself until the connection closes.
func (c *Conn) keepalive() {
	if c.out.Closing() {
		return
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.opts.WriteTimeout)); err != nil {
		c.ws.NetConn().Close()
		return
	}
	c.ping.Reset(c.hub.opts.PingInterval)
}
