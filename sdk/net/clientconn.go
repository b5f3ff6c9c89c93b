package net

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/hub"
)

// The network side of an outbound client: one goroutine (run) dials and then reads;
// the client's hub.Outbox has a writer goroutine only while frames are queued.
// Neither touches a goja runtime: events are queued to the client's worker
// (client.post).

// overflowReason is the reason of the 1008 close frame sent when more than
// ClientOptions.QueueBytes wait to be sent.
const overflowReason = "send queue overflow"

// run dials c's URI, queues onOpen and reads until the connection ends, queueing
// each message; it then queues onError (if the connection failed) and onClose. It
// is c's reader goroutine.
func (c *client) run() {
	ws, resp, err := c.cs.dialer.DialContext(c.ctx, c.uri, nil)
	if err != nil {
		c.out.End()
		c.log.Debug("client connection failed", "client", c.id, "uri", c.uri, "error", err)
		c.end(c.dialError(err, resp), websocket.CloseAbnormalClosure, "")
		return
	}
	c.mu.Lock()
	if c.shut { // retired while dialing
		c.out.End()
		code, reason := c.out.CloseFrame()
		c.mu.Unlock()
		ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(c.cs.opts.WriteTimeout))
		ws.Close()
		return
	}
	c.out.Attach(ws) // what was sent while connecting goes out now, in order
	c.mu.Unlock()
	c.log.Debug("client connected", "client", c.id, "uri", c.uri)
	c.opened(time.Now())
	c.read(ws)
}

// read delivers ws's messages until the connection ends, then ends the client.
func (c *client) read(ws *websocket.Conn) {
	opts := c.cs.opts
	ws.SetReadLimit(opts.ReadLimit)
	// extend gives the remote another PongTimeout, unless the client is closing:
	// then the close handshake's short deadline stands.
	extend := func() {
		if !c.out.Closing() {
			ws.SetReadDeadline(time.Now().Add(opts.PongTimeout))
		}
	}
	extend()
	ws.SetPongHandler(func(string) error { extend(); return nil })
	c.mu.Lock()
	c.ping = time.AfterFunc(opts.PingInterval, func() { c.keepalive(ws) })
	c.mu.Unlock()

	var err error
	for {
		var kind int
		var data []byte
		kind, data, err = ws.ReadMessage()
		if err != nil {
			break
		}
		extend()
		select {
		case c.inflight <- struct{}{}:
			c.received(kind == websocket.BinaryMessage, data)
		case <-c.ctx.Done(): // closed for JavaScript (retired): drain until the handshake ends
		}
	}
	code, reason, failure := c.ending(err)
	c.mu.Lock()
	c.ping.Stop()
	c.mu.Unlock()
	c.out.End()
	ws.Close()
	c.log.Debug("client closed", "client", c.id, "uri", c.uri, "code", code, "reason", reason)
	c.end(failure, code, reason)
}

// ending turns the reader's final error into the close code and reason reported to
// onClose, and the failure worth an onError, if any.
func (c *client) ending(err error) (code int, reason string, failure error) {
	if errors.Is(err, websocket.ErrReadLimit) {
		return websocket.CloseMessageTooBig, "message too big", fmt.Errorf("a message from %s was larger than the limit of %d bytes", c.uri, c.cs.opts.ReadLimit)
	}
	c.mu.Lock() // send changes failure and the close frame together, under mu
	code, reason = c.out.CloseFrame()
	failure = c.failure
	c.mu.Unlock()
	if code != 0 {
		return code, reason, failure // this side closed: report what it sent
	}
	if failure != nil {
		return websocket.CloseAbnormalClosure, "", failure
	}
	var ce *websocket.CloseError
	if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
		return ce.Code, ce.Text, nil // 1006 is gorilla's name for a dropped connection: lost, below
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return websocket.CloseAbnormalClosure, "", fmt.Errorf("no frame or pong from %s for %s", c.uri, c.cs.opts.PongTimeout)
	}
	if ce != nil && ce.Text != "" {
		err = errors.New(ce.Text) // not "websocket: close 1006 (abnormal closure): ..."
	}
	return websocket.CloseAbnormalClosure, "", fmt.Errorf("connection to %s lost: %v", c.uri, err)
}

// dialError explains why connecting failed.
func (c *client) dialError(err error, resp *http.Response) error {
	if errors.Is(err, websocket.ErrBadHandshake) && resp != nil {
		msg := fmt.Sprintf("connecting to %s failed: the server answered HTTP %s instead of switching to WebSocket", c.uri, resp.Status)
		if resp.Body != nil {
			body, _ := io.ReadAll(io.LimitReader(resp.Body, 200))
			resp.Body.Close()
			if text, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n"); text != "" {
				msg += " (" + text + ")"
			}
		}
		return errors.New(msg)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("connecting to %s failed: no handshake within %s", c.uri, c.cs.opts.HandshakeTimeout)
	}
	var unknown x509.UnknownAuthorityError
	var verify *tls.CertificateVerificationError
	if errors.As(err, &unknown) || errors.As(err, &verify) {
		return fmt.Errorf("connecting to %s failed: TLS: %v (to trust a private CA, add it to clients.ca_file in the config)", c.uri, err)
	}
	return fmt.Errorf("connecting to %s failed: %v", c.uri, err)
}

// keepalive pings the remote and re-arms itself while the client is open.
func (c *client) keepalive(ws *websocket.Conn) {
	if c.out.Closing() {
		return
	}
	if err := ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.cs.opts.WriteTimeout)); err != nil {
		ws.NetConn().Close() // the reader sees the failure and ends the client
		return
	}
	c.mu.Lock()
	c.ping.Reset(c.cs.opts.PingInterval)
	c.mu.Unlock()
}

// send queues m, to be written once the client is open. It reports false once the
// client is closing. A client whose queue would exceed the configured bytes is
// closed with 1008, and onError says why.
func (c *client) send(m *hub.Message) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateClosing || c.state == StateClosed {
		return false
	}
	err := c.out.Push(m) // the outbox refuses it once the connection ended, too
	if errors.Is(err, hub.ErrOverflow) {
		limit := c.cs.opts.QueueBytes
		c.log.Warn("closing client: send queue full", "client", c.id, "uri", c.uri, "queued_limit", limit)
		c.state = StateClosing
		c.failure = fmt.Errorf("more than %d bytes queued for sending to %s: the client is closed with 1008", limit, c.uri)
	}
	return err == nil
}

// close sends a close frame with code and reason after the messages already queued
// (once open, if still connecting); onClose follows the remote's answer.
func (c *client) close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.state == StateClosing || c.state == StateClosed {
		return
	}
	c.state = StateClosing
	c.out.Close(code, reason)
}

// shutdown closes the network side with code and reason (unless a close frame is
// queued already): a close frame after what is queued if open; if still dialing,
// a connection that still opens is closed at once (closed() cancels the dial).
func (c *client) shutdown(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.shut = true
	c.out.Close(code, reason)
}

// writeFailed records a failed write, for onError; it is the outbox's OnWriteError,
// called before the network connection is closed under the reader.
func (c *client) writeFailed(err error) {
	if errors.Is(err, websocket.ErrCloseSent) {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failure == nil {
		c.failure = fmt.Errorf("writing to %s failed: %v", c.uri, err)
	}
}
