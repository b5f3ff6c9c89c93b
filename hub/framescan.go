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
// (the only moment it may stop), and consumes the client's pongs itself, so that a
// pong never wakes gorilla (which would then wait inside ReadMessage for a data frame
// it cannot be called out of).

// WebSocket opcodes (RFC 6455, 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opPong         = 0xA
)

// errBadPong ends a connection whose client sent a pong frame that is not a valid
// control frame (fragmented, reserved bits set, unmasked or over 125 bytes).
var errBadPong = errors.New("protocol error: malformed pong frame")

// frameScanner follows the frames of a client-to-server WebSocket stream, fed in
// pieces of any size. It passes every frame on except pongs, which it drops and
// counts, and records where in the passed-on stream the last data message ended.
// The zero value is at the start of a stream. It is not safe for concurrent use.
type frameScanner struct {
	hdr     [14]byte // the current frame's header bytes seen so far
	hlen    int      // how many
	need    int      // the header's full length, once its second byte is seen
	remain  uint64   // payload bytes of the current frame still to come
	payload bool     // the header is complete: remain counts down
	drop    bool     // the current frame is a pong

	emitted  uint64 // bytes passed on so far
	lastEnd  uint64 // the offset in the passed-on stream where the last data message ended
	messages uint64 // data messages ended (a final text, binary or continuation frame)
	pongs    uint64 // pong frames dropped
}

// scan scans p, the next bytes of the stream, and compacts it in place to the bytes
// passed on: it returns their count n (p[:n]) and how many pongs it dropped. After a
// malformed pong it returns errBadPong and the bytes passed on before it.
func (s *frameScanner) scan(p []byte) (n int, pongs int, err error) {
	w := 0 // p[:w] is passed on
	for i := 0; i < len(p); {
		if !s.payload {
			b := p[i]
			i++
			if s.hlen == 0 {
				s.drop = b&0x0f == opPong
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
					return w, pongs, errBadPong
				}
			}
			if s.hlen == s.need {
				s.payload = true
				switch len7 := s.hdr[1] & 0x7f; len7 {
				case 126:
					s.remain = uint64(binary.BigEndian.Uint16(s.hdr[2:4]))
				case 127:
					s.remain = binary.BigEndian.Uint64(s.hdr[2:10])
				default:
					s.remain = uint64(len7)
				}
				if s.remain == 0 {
					pongs += s.endFrame(w)
				}
			}
			continue
		}
		k := len(p) - i
		if uint64(k) > s.remain {
			k = int(s.remain)
		}
		if !s.drop {
			copy(p[w:], p[i:i+k])
			w += k
		}
		i += k
		s.remain -= uint64(k)
		if s.remain == 0 {
			pongs += s.endFrame(w)
		}
	}
	s.emitted += uint64(w)
	return w, pongs, nil
}

// endFrame ends the current frame, which ended at p[:w] of the piece being scanned,
// and returns 1 if it was a pong.
func (s *frameScanner) endFrame(w int) int {
	s.hlen, s.payload = 0, false
	if s.drop {
		s.pongs++
		return 1
	}
	if op := s.hdr[0] & 0x0f; s.hdr[0]&0x80 != 0 && (op == opText || op == opBinary || op == opContinuation) {
		s.messages++
		s.lastEnd = s.emitted + uint64(w)
	}
	return 0
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
	extend   func() // extends the read deadline, as gorilla's pong handler would
	scan     frameScanner
	buf      *[]byte // pooled, holding pending; nil if none
	pending  []byte  // bytes read ahead by readNow that gorilla has not read yet
	err      error   // the error readNow met, returned once pending is read
	lastSeen atomic.Int64
}

// seen records that the client was heard from now.
func (r *readSide) seen() { r.lastSeen.Store(time.Now().UnixNano()) }

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
// with pongs taken out.
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
		m, pongs, serr := r.scan.scan(p[:n])
		if pongs > 0 {
			r.seen()
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
		// Only pongs: read on rather than hand gorilla nothing.
	}
}

// readNow reads what the network connection holds into pending, with pongs taken
// out: one read system call, which, if wait, waits for data first (bounded by the
// read deadline). It reports whether gorilla has something to read now (bytes or an
// error: end of stream, a failure) and whether the wait timed out. It returns false,
// false when nothing came or only pongs did.
func (r *readSide) readNow(wait bool) (ready, timedOut bool) {
	bp := readPool.Get().(*[]byte)
	n, err := rawRead(r.raw, *bp, wait)
	m := 0
	if n > 0 {
		var pongs int
		var serr error
		m, pongs, serr = r.scan.scan((*bp)[:n])
		if pongs > 0 {
			r.seen()
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
