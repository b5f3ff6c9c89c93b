//go:build linux

package hub

import (
	"errors"
	"fmt"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// canPark reports whether this platform parks idle connections (see poller).
const canPark = true

// poller watches parked connections for readiness with one epoll instance and one
// goroutine (run), so that an idle connection holds no goroutine of its own. A
// connection is registered with EPOLLONESHOT: each readiness is reported once, and
// the connection is re-armed (EPOLL_CTL_MOD) when it parks again. Events carry a key
// into parked, never a raw descriptor (descriptors get reused). Whoever removes a
// connection from parked (an event, its keepalive, its closing, stop) owns its
// reading from then on. The zero value is not usable; make one with newPoller. It is
// safe for concurrent use.
type poller struct {
	wake int // an eventfd that stops run

	fdmu sync.RWMutex // guards the epoll descriptor's life: read-held around each use, held to close it
	epfd int

	mu      sync.Mutex // guards parked, next and stopped
	parked  map[uint64]*Conn
	next    uint64
	stopped bool
}

// wakeKey is the event key of the poller's own eventfd.
const wakeKey = 0

func newPoller() (*poller, error) {
	epfd, err := unix.EpollCreate1(unix.EPOLL_CLOEXEC)
	if err != nil {
		return nil, fmt.Errorf("epoll_create1: %w", err)
	}
	wake, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		unix.Close(epfd)
		return nil, fmt.Errorf("eventfd: %w", err)
	}
	ev := unix.EpollEvent{Events: unix.EPOLLIN}
	setKey(&ev, wakeKey)
	if err := unix.EpollCtl(epfd, unix.EPOLL_CTL_ADD, wake, &ev); err != nil {
		unix.Close(epfd)
		unix.Close(wake)
		return nil, fmt.Errorf("epoll_ctl: %w", err)
	}
	p := &poller{epfd: epfd, wake: wake, parked: map[uint64]*Conn{}}
	go p.run()
	return p, nil
}

func setKey(ev *unix.EpollEvent, key uint64) {
	ev.Fd, ev.Pad = int32(uint32(key)), int32(uint32(key>>32))
}
func getKey(ev *unix.EpollEvent) uint64 { return uint64(uint32(ev.Fd)) | uint64(uint32(ev.Pad))<<32 }

// run waits for events until stop, waking each parked connection that has one.
func (p *poller) run() {
	events := make([]unix.EpollEvent, 128)
	for {
		n, err := unix.EpollWait(p.epfd, events, -1)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			panic(fmt.Sprintf("hub: epoll_wait: %v", err)) // only EBADF, EFAULT, EINVAL: a bug
		}
		for i := range events[:n] {
			key := getKey(&events[i])
			if key == wakeKey {
				p.fdmu.Lock()
				unix.Close(p.epfd)
				unix.Close(p.wake)
				p.epfd = -1
				p.fdmu.Unlock()
				return
			}
			if c := p.claimKey(key); c != nil {
				c.wake()
			}
		}
	}
}

// park hands c, whose reader is stopping with gorilla's buffer empty, to the poller.
// It reports whether c's reader must stop: true when c is parked (or another
// goroutine took it over meanwhile), false when c could not be parked and its
// reader goes on. The caller owns c's reading.
func (p *poller) park(c *Conn) bool {
	if c.pollKey == 0 { // first park: register, not armed yet
		p.mu.Lock()
		p.next++
		key := p.next
		p.mu.Unlock()
		if p.ctl(c, unix.EPOLL_CTL_ADD, key, unix.EPOLLONESHOT) != nil {
			return false
		}
		p.mu.Lock()
		c.pollKey = key // read by claim under p.mu
		p.mu.Unlock()
	}
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return false
	}
	p.parked[c.pollKey] = c
	p.mu.Unlock()
	// From here another goroutine may own c: touch nothing of its reading state.
	// Closing is checked after c is in parked: Conn.Close sets it before it looks there.
	if c.out.Closing() || p.ctl(c, unix.EPOLL_CTL_MOD, c.pollKey, unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLONESHOT) != nil {
		return !p.claim(c)
	}
	return true
}

// claim takes c out of the parked set and reports whether it was there: the caller
// now owns its reading.
func (p *poller) claim(c *Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if c.pollKey != 0 && p.parked[c.pollKey] == c {
		delete(p.parked, c.pollKey)
		return true
	}
	return false
}

func (p *poller) claimKey(key uint64) *Conn {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.parked[key]
	delete(p.parked, key)
	return c
}

// forget unregisters c, which is ending, while its descriptor is still open. The
// caller owns c's reading.
func (p *poller) forget(c *Conn) {
	if c.pollKey != 0 {
		p.ctl(c, unix.EPOLL_CTL_DEL, c.pollKey, 0)
	}
}

// count returns the number of parked connections.
func (p *poller) count() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.parked)
}

// stop ends run and resumes the connections still parked; park fails from now on.
func (p *poller) stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	resume := make([]*Conn, 0, len(p.parked))
	for k, c := range p.parked {
		resume = append(resume, c)
		delete(p.parked, k)
	}
	p.mu.Unlock()
	for _, c := range resume {
		go c.resume()
	}
	unix.Write(p.wake, []byte{1, 0, 0, 0, 0, 0, 0, 0})
}

// ctl runs epoll_ctl for c's descriptor, which it holds open meanwhile.
func (p *poller) ctl(c *Conn, op int, key uint64, events uint32) error {
	p.fdmu.RLock()
	defer p.fdmu.RUnlock()
	if p.epfd < 0 {
		return errors.New("poller stopped")
	}
	var err error
	cerr := c.rd.raw.Control(func(fd uintptr) {
		ev := unix.EpollEvent{Events: events}
		setKey(&ev, key)
		err = unix.EpollCtl(p.epfd, op, int(fd), &ev)
	})
	if cerr != nil {
		return cerr
	}
	return err
}

// rawRead makes one read system call on raw into buf. Without wait it returns
// errWouldBlock if nothing is there; with wait it waits for data (bounded by the
// connection's read deadline) instead. A return of 0, nil is the end of the stream.
func rawRead(raw syscall.RawConn, buf []byte, wait bool) (int, error) {
	var n int
	var rerr error
	err := raw.Read(func(fd uintptr) bool {
		for {
			n, rerr = syscall.Read(int(fd), buf)
			if rerr != syscall.EINTR {
				break
			}
		}
		return !(wait && rerr == syscall.EAGAIN)
	})
	if err != nil {
		return 0, err
	}
	if rerr == syscall.EAGAIN {
		return 0, errWouldBlock
	}
	if rerr != nil {
		return 0, rerr
	}
	return n, nil
}
