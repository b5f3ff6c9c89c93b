//go:build !linux

package hub

import (
	"errors"
	"syscall"
)

// canPark reports whether this platform parks idle connections: only Linux does
// (park_linux.go); elsewhere each connection keeps its reader goroutine.
const canPark = false

type poller struct{}

func newPoller() (*poller, error) { return nil, errors.New("parking idle connections needs Linux") }

func (p *poller) park(c *Conn) bool  { return false }
func (p *poller) claim(c *Conn) bool { return false }
func (p *poller) forget(c *Conn)     {}
func (p *poller) count() int         { return 0 }
func (p *poller) stop()              {}

func rawRead(raw syscall.RawConn, buf []byte, wait bool) (int, error) {
	return 0, errors.New("parking idle connections needs Linux")
}
