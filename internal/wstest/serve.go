package wstest

import (
	"context"
	"net"
	"sync"
	"testing"
)

// Serve runs serve on a fresh listener on 127.0.0.1 and returns the listener's
// address and stop, which cancels serve's context and waits until serve has
// returned; stop may be called more than once, and is called when the test ends.
// What serve returns is dropped: a server that did not start shows in the test
// as one that never answers.
func Serve(t testing.TB, serve func(ctx context.Context, l net.Listener) error) (addr string, stop func()) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		serve(ctx, l)
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	return l.Addr().String(), stop
}
