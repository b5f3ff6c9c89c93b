package hub

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ErrClosed is returned by Send on a connection that is closed or closing.
var ErrClosed = errors.New("connection is closed")

// closeWait is how long a closing connection waits for the peer's close frame.
const closeWait = 3 * time.Second

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
	inflight chan struct{}
	release  func()
	ping     *time.Timer
	joined   map[string]struct{} // rooms of c.Project joined; guarded by hub.mu

	mu          sync.Mutex // guards queue, queued, writing, closing, closeCode, closeReason
	queue       []frame
	queued      int
	writing     bool
	closing     bool
	closeCode   int
	closeReason string
}

// frame is a queued outgoing frame: a message, or the close frame ending the queue.
type frame struct {
	msg    *Message
	code   int
	reason string
}

// Send queues m for writing. It fails with ErrClosed once the connection is closing;
// a connection whose queue would exceed the configured bytes is closed as slow.
func (c *Conn) Send(m *Message) error {
	c.mu.Lock()
	if c.closing {
		c.mu.Unlock()
		return ErrClosed
	}
	if c.queued+len(m.Data) > c.hub.opts.QueueBytes {
		reason := fmt.Sprintf("slow consumer: more than %d bytes queued", c.hub.opts.QueueBytes)
		c.closing = true
		c.closeCode, c.closeReason = websocket.ClosePolicyViolation, reason
		c.queue = nil // free the backlog now; the writer stops after its current batch
		c.mu.Unlock()
		c.hub.log.Warn("closing slow connection", "conn", c.ID, "endpoint", c.Endpoint, "remote", c.RemoteAddr, "queued_limit", c.hub.opts.QueueBytes)
		go c.abort(websocket.ClosePolicyViolation, reason)
		return ErrClosed
	}
	c.queue = append(c.queue, frame{msg: m})
	c.queued += len(m.Data)
	c.startWriterLocked()
	c.mu.Unlock()
	return nil
}

// Close sends a close frame with code and reason after the frames already queued,
// then ends the connection once the peer answers (or after a short wait).
func (c *Conn) Close(code int, reason string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closing {
		return
	}
	c.closing = true
	c.closeCode, c.closeReason = code, reason
	c.queue = append(c.queue, frame{code: code, reason: reason})
	c.startWriterLocked()
}

// startWriterLocked starts the writer goroutine unless it is running.
func (c *Conn) startWriterLocked() {
	if !c.writing {
		c.writing = true
		go c.write()
	}
}

// write drains the queue, several frames per wake-up, and exits when it is empty,
// so an idle connection holds no writer goroutine.
func (c *Conn) write() {
	for {
		c.mu.Lock()
		batch := c.queue
		c.queue = nil
		if len(batch) == 0 {
			c.writing = false
			c.mu.Unlock()
			return
		}
		c.mu.Unlock()

		c.ws.SetWriteDeadline(time.Now().Add(c.hub.opts.WriteTimeout))
		bc, batched := c.ws.NetConn().(*batchConn)
		if batched {
			bc.begin()
		}
		sent := 0
		var err error
		for _, f := range batch {
			if err = c.writeFrame(f); err != nil {
				break
			}
			if f.msg != nil {
				sent += len(f.msg.Data)
			}
		}
		if batched {
			if ferr := bc.flush(); err == nil {
				err = ferr
			}
		}
		if err != nil {
			c.ws.NetConn().Close() // the reader sees the failure and ends the connection
			c.mu.Lock()
			c.queue, c.queued, c.writing = nil, 0, false
			c.mu.Unlock()
			return
		}
		c.mu.Lock()
		c.queued -= sent
		c.mu.Unlock()
	}
}

func (c *Conn) writeFrame(f frame) error {
	if f.msg == nil {
		err := c.ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(f.code, f.reason))
		c.ws.SetReadDeadline(time.Now().Add(closeWait))
		return err
	}
	if pm := f.msg.prepared; pm != nil {
		return c.ws.WritePreparedMessage(pm)
	}
	return c.ws.WriteMessage(f.msg.frameType(), f.msg.Data)
}

// abort closes the connection at once with code, without waiting for queued frames.
func (c *Conn) abort(code int, reason string) {
	c.mu.Lock()
	if !c.closing {
		c.closing = true
		c.closeCode, c.closeReason = code, reason
	}
	c.queue = nil
	c.mu.Unlock()
	c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(time.Second))
	c.ws.NetConn().Close()
}

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
	c.mu.Lock()
	c.closing = true
	c.queue = nil
	c.mu.Unlock()
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
	c.mu.Lock()
	code, reason = c.closeCode, c.closeReason
	c.mu.Unlock()
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
	c.mu.Lock()
	closing := c.closing
	c.mu.Unlock()
	if closing {
		return
	}
	if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.opts.WriteTimeout)); err != nil {
		c.ws.NetConn().Close()
		return
	}
	c.ping.Reset(c.hub.opts.PingInterval)
}
