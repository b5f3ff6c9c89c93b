package hub

import (
	"bytes"
	"encoding/binary"
	"math/rand/v2"
	"testing"
)

// clientFrame encodes a masked client frame.
func clientFrame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	out := []byte{b0}
	switch n := len(payload); {
	case n <= 125:
		out = append(out, 0x80|byte(n))
	case n <= 0xffff:
		out = append(out, 0x80|126)
		out = binary.BigEndian.AppendUint16(out, uint16(n))
	default:
		out = append(out, 0x80|127)
		out = binary.BigEndian.AppendUint64(out, uint64(n))
	}
	mask := []byte{1, 2, 3, 4}
	out = append(out, mask...)
	for i, c := range payload {
		out = append(out, c^mask[i%4])
	}
	return out
}

// scanAll scans stream split into pieces at cuts and returns what was passed on,
// the offsets where data messages ended, and the pings and pongs dropped.
func scanAll(t testing.TB, stream []byte, cuts []int) (out []byte, ends []uint64, controls int) {
	var s frameScanner
	prev := 0
	for _, cut := range append(cuts, len(stream)) {
		piece := bytes.Clone(stream[prev:cut])
		prev = cut
		before := s.messages
		n, p, err := s.scan(piece)
		if err != nil {
			t.Fatalf("scan: %v", err)
		}
		out = append(out, piece[:n]...)
		controls += p
		// A piece may end several messages; only the last end is kept, so record
		// the count and, when it moved by one, the offset.
		for i := before; i < s.messages; i++ {
			ends = append(ends, s.lastEnd)
		}
	}
	if s.emitted != uint64(len(out)) {
		t.Fatalf("got emitted %d, want %d", s.emitted, len(out))
	}
	return out, ends, controls
}

func TestFrameScanner(t *testing.T) {
	big16 := bytes.Repeat([]byte("a"), 300)
	big64 := bytes.Repeat([]byte("b"), 70000)
	pong := clientFrame(true, opPong, []byte("p"))
	tests := []struct {
		name         string
		frames       [][]byte
		wantControls int // pings and pongs
		wantEnds     int // data messages
	}{
		{"7-bit text", [][]byte{clientFrame(true, opText, []byte("hi"))}, 0, 1},
		{"empty binary", [][]byte{clientFrame(true, opBinary, nil)}, 0, 1},
		{"16-bit length", [][]byte{clientFrame(true, opBinary, big16)}, 0, 1},
		{"64-bit length", [][]byte{clientFrame(true, opText, big64)}, 0, 1},
		{"fragmented with a pong inside", [][]byte{
			clientFrame(false, opText, []byte("ab")), pong,
			clientFrame(false, opContinuation, []byte("cd")),
			clientFrame(true, opContinuation, []byte("ef")),
		}, 1, 1},
		{"pings dropped, close passes", [][]byte{
			clientFrame(true, opPing, []byte("x")), clientFrame(true, opText, []byte("m")),
			clientFrame(true, opPing, nil), clientFrame(true, 0x8, []byte{3, 232}),
		}, 2, 1},
		{"pongs only", [][]byte{pong, clientFrame(true, opPong, nil), pong}, 3, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stream, want []byte
			var wantEnds []uint64
			for _, f := range tc.frames {
				stream = append(stream, f...)
				if op := f[0] & 0x0f; op == opPong || op == opPing {
					continue
				}
				want = append(want, f...)
				if op := f[0] & 0x0f; f[0]&0x80 != 0 && op <= opBinary {
					wantEnds = append(wantEnds, uint64(len(want)))
				}
			}
			for _, cuts := range [][]int{nil, everyByte(len(stream))} {
				out, ends, controls := scanAll(t, stream, cuts)
				if !bytes.Equal(out, want) {
					t.Fatalf("got %d bytes passed on, want %d (pings and pongs removed)", len(out), len(want))
				}
				if controls != tc.wantControls {
					t.Fatalf("got %d pings and pongs, want %d", controls, tc.wantControls)
				}
				if len(ends) != tc.wantEnds || !equalU64(ends, wantEnds) {
					t.Fatalf("got message ends %v, want %v", ends, wantEnds)
				}
			}
		})
	}
}

func TestFrameScannerPingPayload(t *testing.T) {
	payload := []byte("are you there? 0123456789")
	stream := append(clientFrame(true, opPing, []byte("first")), clientFrame(true, opPing, payload)...)
	for _, cuts := range [][]int{nil, everyByte(len(stream))} {
		var s frameScanner
		prev := 0
		for _, cut := range append(cuts, len(stream)) {
			if _, _, err := s.scan(bytes.Clone(stream[prev:cut])); err != nil {
				t.Fatal(err)
			}
			prev = cut
		}
		// Only the last ping is answered (RFC 6455, 5.5.3), with its unmasked payload.
		if got, ok := s.takePong(); !ok || !bytes.Equal(got, payload) {
			t.Fatalf("takePong: got %q, %v; want %q", got, ok, payload)
		}
		if got, ok := s.takePong(); ok {
			t.Fatalf("second takePong: got %q, want none", got)
		}
	}
	var s frameScanner
	s.scan(clientFrame(true, opPing, nil))
	if got, ok := s.takePong(); !ok || len(got) != 0 {
		t.Fatalf("empty ping: got %q, %v; want an empty pong", got, ok)
	}
}

func TestFrameScannerBadControl(t *testing.T) {
	for name, f := range map[string][]byte{
		"unmasked pong":   {0x8A, 0x01, 'x'},
		"fragmented pong": {0x0A, 0x81, 1, 2, 3, 4, 'x'},
		"too long pong":   clientFrame(true, opPong, bytes.Repeat([]byte("x"), 126)),
		"unmasked ping":   {0x89, 0x01, 'x'},
		"fragmented ping": {0x09, 0x81, 1, 2, 3, 4, 'x'},
		"too long ping":   clientFrame(true, opPing, bytes.Repeat([]byte("x"), 126)),
	} {
		t.Run(name, func(t *testing.T) {
			var s frameScanner
			msg := clientFrame(true, opText, []byte("ok"))
			n, _, err := s.scan(append(bytes.Clone(msg), f...))
			if err != errBadControl {
				t.Fatalf("got error %v, want errBadControl", err)
			}
			if n != len(msg) {
				t.Fatalf("got %d bytes passed on before the bad frame, want %d", n, len(msg))
			}
		})
	}
}

func everyByte(n int) []int {
	cuts := make([]int, 0, n)
	for i := 1; i < n; i++ {
		cuts = append(cuts, i)
	}
	return cuts
}

func equalU64(a, b []uint64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// FuzzFrameScanner: any byte stream (valid frames or not), split at any points, is
// scanned to the same bytes, message ends, pings and pongs, and ping payload to
// answer as in one piece.
func FuzzFrameScanner(f *testing.F) {
	f.Add(clientFrame(true, opText, []byte("hello")), uint64(1))
	f.Add(append(clientFrame(true, opPong, nil), clientFrame(true, opBinary, make([]byte, 300))...), uint64(7))
	f.Add(append(clientFrame(true, opPing, []byte("p")), clientFrame(true, opText, []byte("t"))...), uint64(5))
	f.Add(append(clientFrame(false, opText, []byte("a")), clientFrame(true, opContinuation, []byte("b"))...), uint64(3))
	f.Add([]byte{0x81, 0xff, 0, 0, 0, 0, 0, 0, 0, 1}, uint64(9))
	f.Fuzz(func(t *testing.T, stream []byte, seed uint64) {
		whole, wholeEnds, wholePong, wholeErr := scanPieces(stream, nil)
		rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
		var cuts []int
		for i := 1; i < len(stream); i++ {
			if rng.IntN(4) == 0 {
				cuts = append(cuts, i)
			}
		}
		split, splitEnds, splitPong, splitErr := scanPieces(stream, cuts)
		if wholeErr != splitErr {
			t.Fatalf("got error %v split, %v whole", splitErr, wholeErr)
		}
		if !bytes.Equal(whole, split) {
			t.Fatalf("got %x passed on split, want %x as whole", split, whole)
		}
		if !equalU64(wholeEnds, splitEnds) {
			t.Fatalf("got message ends %v split, want %v as whole", splitEnds, wholeEnds)
		}
		if !bytes.Equal(wholePong, splitPong) || (wholePong == nil) != (splitPong == nil) {
			t.Fatalf("got pong %q split, want %q as whole", splitPong, wholePong)
		}
	})
}

// scanPieces is scanAll that stops at the first error. Message ends are recorded
// per piece end only when exactly one message ended in the piece, so compare the
// last end and the count instead. pong is the last ping's payload to answer.
func scanPieces(stream []byte, cuts []int) (out []byte, ends []uint64, pong []byte, err error) {
	var s frameScanner
	prev := 0
	for _, cut := range append(cuts, len(stream)) {
		piece := bytes.Clone(stream[prev:cut])
		prev = cut
		var n int
		n, _, err = s.scan(piece)
		out = append(out, piece[:n]...)
		if err != nil {
			break
		}
	}
	pong, _ = s.takePong()
	return out, []uint64{s.messages, s.lastEnd, s.controls, s.emitted}, pong, err
}
