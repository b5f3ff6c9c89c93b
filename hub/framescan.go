package hub

import (
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The read side of a parkable connection (see park.go). gorilla/websocket reads the
// stream through batchConn.Read; a readSide there follows the client's frames with a
// frameScanner, so that the reader knows when gorilla's buffer holds no unread byte
// (the only moment it may stop), and consumes the client's pings and pongs itself
// (answering each ping with a pong), so that keepalive traffic never wakes gorilla
// (which would then wait inside ReadMessage for a data frame it cannot be called out
// of).

// WebSocket opcodes (RFC 6455, 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opPing         = 0x9
	opPong         = 0xA
)

// errBadControl ends a connection whose client sent a ping or pong frame that is not
// a valid control frame (fragmented, reserved bits set, unmasked or over 125 bytes).
var errBadControl = errors.New("protocol error: malformed ping or pong frame")

// frameScanner follows the frames of a client-to-server WebSocket stream, fed in
// pieces of any size. It passes every frame on except pings and pongs, which it
// drops and counts, keeping the (unmasked) payload of the last ping for the pong
// that answers it; and it records where in the passed-on stream the last data
// message ended. The zero value is at the start of a stream. It is not safe for
// concurrent use.
type frameScanner struct {
	hdr     [14]byte // the current frame's header bytes seen so far
	hlen    int      // how many
	need    int      // the header's full length, once its second byte is seen
	remain  uint64   // payload bytes of the current frame still to come
	payload bool     // the header is complete: remain counts down
	drop    bool     // the current frame is a ping or a pong
	ping    bool     // the current frame is a ping

	pingData []byte // the current ping's payload so far, masked (made at the first ping)
	pong     []byte // the unmasked payload of the last ping not yet answered, or nil

	emitted  uint64 // bytes passed on so far
	lastEnd  uint64 // the offset in the passed-on stream where the last data message ended
	messages uint64 // data messages ended (a final text, binary or continuation frame)
	controls uint64 // ping and pong frames dropped
}

// scan scans p, the next bytes of the stream, and compacts it in place to the bytes
// passed on: it returns their count n (p[:n]) and how many pings and pongs it
// dropped. After a malformed ping or pong it returns errBadControl and the bytes
// passed on before it.
func (s *frameScanner) scan(p []byte) (n int, controls int, err error) {
	w := 0 // p[:w] is passed on
	for i := 0; i < len(p); {
		if !s.payload {
			b := p[i]
			i++
			if s.hlen == 0 {
				op := b & 0x0f
				s.drop, s.ping = op == opPong || op == opPing, op == opPing
				s.need = 2
			}
			s.hdr[s.hlen] = b
			s.hlen++
			if !s.drop {
				p[w] = b
				w++
			}
			if s.hlen == 2 {
				masked, len7 := b&0x80 != 0, b&0x7f
				s.need = 2
				switch len7 {
				case 126:
					s.need += 2
				case 127:
					s.need += 8
				}
				if masked {
					s.need += 4
				}
				if s.drop && (s.hdr[0]&0xf0 != 0x80 || !masked || len7 > 125) {
					s.emitted += uint64(w)
					return w, controls, errBadControl
				}
			}
			if s.hlen == s.need {
				s.payload, s.pingData = true, s.pingData[:0]
				if s.ping && s.pingData == nil {
					s.pingData = make([]byte, 0, 125)
				}
				switch len7 := s.hdr[1] & 0x7f; len7 {
				case 126:
					s.remain = uint64(binary.BigEndian.Uint16(s.hdr[2:4]))
				case 127:
					s.remain = binary.BigEndian.Uint64(s.hdr[2:10])
				default:
					s.remain = uint64(len7)
				}
				if s.remain == 0 {
					controls += s.endFrame(w)
				}
			}
			continue
		}
		k := len(p) - i
		if uint64(k) > s.remain {
			k = int(s.remain)
		}
		switch {
		case !s.drop:
			copy(p[w:], p[i:i+k])
			w += k
		case s.ping: // a control frame's payload is at most 125 bytes (checked above)
			s.pingData = append(s.pingData, p[i:i+k]...)
		}
		i += k
		s.remain -= uint64(k)
		if s.remain == 0 {
			controls += s.endFrame(w)
		}
	}
	s.emitted += uint64(w)
	return w, controls, nil
}

// endFrame ends the current frame, which ended at p[:w] of the piece being scanned,
// and returns 1 if it was a ping or a pong.
func (s *frameScanner) endFrame(w int) int {
	s.hlen, s.payload = 0, false
	if s.drop {
		s.controls++
		if s.ping {
			mask := s.hdr[2:6] // a control frame has a 7-bit length: the key follows it
			s.pong = make([]byte, len(s.pingData))
			for i, b := range s.pingData {
				s.pong[i] = b ^ mask[i%4]
			}
		}
		return 1
	}
	if op := s.hdr[0] & 0x0f; s.hdr[0]&0x80 != 0 && (op == opText || op == opBinary || op == opContinuation) {
		s.messages++
		s.lastEnd = s.emitted + uint64(w)
	}
	return 0
}

// takePong returns the payload of the last ping not yet answered and forgets it,
// or nil, false if there is none. An endpoint may answer only the latest of several
// pings (RFC 6455, 5.5.3).
func (s *frameScanner) takePong() ([]byte, bool) {
	p := s.pong
	s.pong = nil
	return p, p != nil
}

// readBufSize is the size of the pooled buffers a parked connection's wake-up reads into.
const readBufSize = 512

var readPool = sync.Pool{New: func() any { b := make([]byte, readBufSize); return &b }}

// readSide is the read state of a parkable connection, held by its batchConn. Its
// scanner and pending bytes belong to whoever reads the connection: its reader
// goroutine, or while it is parked the poller that wakes it (the poller's map hands
// the connection over). lastSeen is safe for concurrent use.
type readSide struct {
	raw      syscall.RawConn
	extend   func()       // extends the read deadline, as gorilla's pong handler would
	pong     func([]byte) // answers a ping with a pong of its payload, without blocking
	scan     frameScanner
	buf      *[]byte // pooled, holding pending; nil if none
	pending  []byte  // bytes read ahead by readNow that gorilla has not read yet
	err      error   // the error readNow met, returned once pending is read
	lastSeen atomic.Int64
}

// seen records that the client was heard from now.
func (r *readSide) seen() { r.lastSeen.Store(time.Now().UnixNano()) }

// heard records pings or pongs just scanned: the client is alive, and the last ping
// is answered.
func (r *readSide) heard() {
	r.seen()
	if p, ok := r.scan.takePong(); ok && r.pong != nil {
		r.pong(p)
	}
}

// silentFor returns how long ago the client was last heard from.
func (r *readSide) silentFor() time.Duration {
	return time.Duration(time.Now().UnixNano() - r.lastSeen.Load())
}

// drained reports whether gorilla has read exactly the first messages data messages
// of the stream and holds no unread byte.
func (r *readSide) drained(messages uint64) bool {
	return r.pending == nil && r.err == nil && r.scan.messages == messages && r.scan.emitted == r.scan.lastEnd
}

// read serves gorilla: the bytes read ahead first, then the network connection's,
// with pings and pongs taken out (and pings answered).
func (r *readSide) read(c io.Reader, p []byte) (int, error) {
	if r.pending != nil {
		n := copy(p, r.pending)
		r.pending = r.pending[n:]
		if len(r.pending) == 0 {
			r.release()
		}
		return n, nil
	}
	if r.err != nil {
		return 0, r.err
	}
	for {
		n, err := c.Read(p)
		if n <= 0 {
			return n, err
		}
		m, controls, serr := r.scan.scan(p[:n])
		if controls > 0 {
			r.heard()
			r.extend()
		}
		if serr != nil {
			r.err = serr
			if m == 0 {
				return 0, serr
			}
		}
		if m > 0 || err != nil {
			return m, err
		}
		// Only pings and pongs: read on rather than hand gorilla nothing.
	}
}

// readNow reads what the network connection holds into pending, with pings and
// pongs taken out (and pings answered): one read system call, which, if wait, waits
// for data first (bounded by the read deadline). It reports whether gorilla has
// something to read now (bytes or an error: end of stream, a failure) and whether
// the wait timed out. It returns false, false when nothing came or only pings and
// pongs did.
func (r *readSide) readNow(wait bool) (ready, timedOut bool) {
	bp := readPool.Get().(*[]byte)
	n, err := rawRead(r.raw, *bp, wait)
	m := 0
	if n > 0 {
		var controls int
		var serr error
		m, controls, serr = r.scan.scan((*bp)[:n])
		if controls > 0 {
			r.heard()
		}
		if serr != nil {
			r.err = serr
		}
	}
	switch {
	case err == nil && n == 0:
		r.err = io.EOF
	case errors.Is(err, errWouldBlock):
	case isTimeout(err):
		timedOut = true
	case err != nil:
		r.err = err
	}
	if m > 0 {
		r.buf, r.pending = bp, (*bp)[:m]
	} else {
		readPool.Put(bp)
	}
	return r.pending != nil || r.err != nil, timedOut
}

// release returns the pending buffer to its pool.
func (r *readSide) release() {
	if r.buf != nil {
		readPool.Put(r.buf)
	}
	r.buf, r.pending = nil, nil
}

// errWouldBlock is rawRead's answer when no byte is there and it was not to wait.
var errWouldBlock = errors.New("no data ready")

func isTimeout(err error) bool {
	var ne interface{ Timeout() bool }
	return errors.As(err, &ne) && ne.Timeout()
}
