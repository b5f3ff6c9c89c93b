package hub

import (
	"crypto/tls"
	"errors"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// ErrClosed is returned by Conn.Send and Outbox.Push once the connection is closing
// or closed.
var ErrClosed = errors.New("connection is closed")

// ErrOverflow is returned by Outbox.Push when the message would take the queue past
// its limit: the backlog has been dropped and the outbox closes with 1008.
var ErrOverflow = errors.New("send queue overflow")

const (
	// closeWait is how long a closing connection waits for the peer's close frame.
	closeWait = 3 * time.Second
	// abortWait bounds writing the close frame of an aborted connection.
	abortWait = time.Second
)

// Outbox is the sending side of one WebSocket connection, a server's (Conn) or an
// outbound client's (sdk/net): it owns the bounded queue of outgoing frames, the
// close frame that ends it, and the writer goroutine that drains it.
//
// The writer exists only while frames are queued and a connection is attached: each
// time it wakes it takes every queued frame and writes them, in order, sending them
// out in one write when the network connection batches (see Batching and
// DialBatching). Frames pushed before Attach wait, in order, for the connection.
// The queue is bounded in bytes (Limit); a Push beyond it drops the backlog and closes
// the connection with 1008 (see AbortOverflow). A failed write closes the network
// connection, so the connection's reader sees the failure and ends it; from then on
// Push fails with ErrClosed.
//
// Set the exported fields before the first call and do not change them after. The
// zero value is an open, empty outbox with no connection attached, no bound on its
// queue and no write timeout. Its methods are safe for concurrent use; OnWriteError
// is called from the writer goroutine with no lock of the outbox held.
type Outbox struct {
	// Limit bounds the bytes of messages queued and being written. A Push that would
	// pass it overflows: it returns ErrOverflow and the outbox closes with 1008 and
	// OverflowReason. Zero means no bound.
	Limit          int
	OverflowReason string
	// AbortOverflow makes an overflow end an attached connection at once: the close
	// frame is written out of turn and the network connection closed, which also
	// releases a writer blocked on a peer that does not read. Without it (or before
	// Attach) the close frame is queued in place of the backlog, after the frames
	// being written, and the peer's answer is awaited as for Close.
	AbortOverflow bool
	// WriteTimeout bounds the writes of one wake-up of the writer. Zero means no bound.
	WriteTimeout time.Duration
	// OnWriteError, if not nil, is called with the error of a failed write, before
	// the network connection is closed (so the reader, which then fails, finds what
	// it recorded).
	OnWriteError func(error)

	mu      sync.Mutex // guards ws, queue, queued, writing, closing, code and reason
	ws      *websocket.Conn
	queue   []frame
	queued  int  // bytes of the messages queued and being written
	writing bool // the writer goroutine runs
	closing bool // no more messages: a close frame is queued or sent, or the connection ended
	code    int  // the close frame queued or sent, 0 if none
	reason  string
}

// frame is a queued outgoing frame: a message, or the close frame ending the queue.
type frame struct {
	msg    *Message
	code   int
	reason string
}

// Attach gives o its connection, once; the frames queued so far are written now.
func (o *Outbox) Attach(ws *websocket.Conn) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.ws = ws
	o.startWriterLocked()
}

// Push queues m. It fails with ErrClosed once o is closing or a write has failed, and
// with ErrOverflow
// (once) if m would take the queue past Limit.
func (o *Outbox) Push(m *Message) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing {
		return ErrClosed
	}
	if o.Limit > 0 && o.queued+len(m.Data) > o.Limit {
		o.queue, o.queued = nil, 0 // free the backlog now; the writer stops after its current batch
		o.closing = true
		o.code, o.reason = websocket.ClosePolicyViolation, o.OverflowReason
		if o.AbortOverflow && o.ws != nil {
			go abort(o.ws, o.code, o.reason)
		} else {
			o.queue = append(o.queue, frame{code: o.code, reason: o.reason})
			o.startWriterLocked()
		}
		return ErrOverflow
	}
	o.queue = append(o.queue, frame{msg: m})
	o.queued += len(m.Data)
	o.startWriterLocked()
	return nil
}

// Close queues a close frame with code and reason after the frames already queued,
// unless o is closing already. Writing it gives the connection's reader a deadline
// of closeWait for the peer's answer.
func (o *Outbox) Close(code int, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closing {
		return
	}
	o.closing = true
	o.code, o.reason = code, reason
	o.queue = append(o.queue, frame{code: code, reason: reason})
	o.startWriterLocked()
}

// End tells o that its connection has ended (or never opened): what is queued is
// dropped and Push fails from now on.
func (o *Outbox) End() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closing = true
	o.queue = nil
}

// Closing reports whether o takes no more messages: a close frame is queued or sent,
// or the connection has ended.
func (o *Outbox) Closing() bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closing
}

// CloseFrame returns the code and reason of the close frame o has queued or sent (by
// Close or an overflow), or 0 and "" if none.
func (o *Outbox) CloseFrame() (code int, reason string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.code, o.reason
}

// startWriterLocked starts the writer goroutine if frames wait for an attached
// connection and it is not running.
func (o *Outbox) startWriterLocked() {
	if !o.writing && o.ws != nil && len(o.queue) > 0 {
		o.writing = true
		go o.write()
	}
}

// write drains the queue, every queued frame per wake-up, and exits when it is
// empty, so an idle connection holds no writer goroutine.
func (o *Outbox) write() {
	for {
		o.mu.Lock()
		batch, ws := o.queue, o.ws
		o.queue = nil
		if len(batch) == 0 {
			o.writing = false
			o.mu.Unlock()
			return
		}
		o.mu.Unlock()

		var deadline time.Time
		if o.WriteTimeout > 0 {
			deadline = time.Now().Add(o.WriteTimeout)
		}
		ws.SetWriteDeadline(deadline)
		bc := batcher(ws)
		if bc != nil {
			bc.begin()
		}
		sent := 0
		var err error
		for _, f := range batch {
			if err = writeFrame(ws, f); err != nil {
				break
			}
			if f.msg != nil {
				sent += len(f.msg.Data)
			}
		}
		if bc != nil {
			if ferr := bc.flush(); err == nil {
				err = ferr
			}
		}
		if err != nil {
			o.mu.Lock()
			o.queue, o.queued, o.writing = nil, 0, false
			o.closing = true // the connection is lost: later pushes fail instead of starting writers
			o.mu.Unlock()
			if o.OnWriteError != nil {
				o.OnWriteError(err)
			}
			ws.NetConn().Close() // the reader sees the failure and ends the connection
			return
		}
		o.mu.Lock()
		o.queued = max(o.queued-sent, 0) // an overflow may have reset it meanwhile
		o.mu.Unlock()
	}
}

func writeFrame(ws *websocket.Conn, f frame) error {
	if f.msg == nil {
		err := ws.WriteMessage(websocket.CloseMessage, websocket.FormatCloseMessage(f.code, f.reason))
		ws.SetReadDeadline(time.Now().Add(closeWait))
		return err
	}
	if pm := f.msg.prepared; pm != nil {
		return ws.WritePreparedMessage(pm)
	}
	return ws.WriteMessage(f.msg.frameType(), f.msg.Data)
}

// abort closes ws at once with code and reason, without waiting for queued frames.
func abort(ws *websocket.Conn, code int, reason string) {
	deadline := time.Now().Add(abortWait)
	ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), deadline)
	// If the writer has a batch open, the close frame went into it behind whole
	// frames (gorilla serializes frame writes): send it out before closing.
	if bc := batcher(ws); bc != nil {
		bc.SetWriteDeadline(deadline)
		bc.flush()
	}
	ws.NetConn().Close()
}

// batcher returns the batchConn under ws, directly or beneath TLS, or nil.
func batcher(ws *websocket.Conn) *batchConn {
	c := ws.NetConn()
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	bc, _ := c.(*batchConn)
	return bc
}
