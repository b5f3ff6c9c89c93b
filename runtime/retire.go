package runtime

import (
	"fmt"
	"runtime/debug"
	"time"

	"github.com/dop251/goja"
)

// OnRetire registers fn to run when the worker retires: when its generation is
// stopped because the project was reloaded or removed, its load failed, or the
// server is shutting down. Native modules use it to release what they hold for the
// worker (sdk/net closes the outbound clients the worker created).
//
// Hooks run on the worker's loop, in registration order, after the events already
// queued to it and the drain of those still awaiting something (see drain), and
// before it stops, so a hook may still run JavaScript (Fire).
// A hook that panics is logged and the others still run. Call OnRetire on the loop
// goroutine, typically from a Module.
func (w *Worker) OnRetire(fn func()) { w.onRetire = append(w.onRetire, fn) }

// Retiring reports whether the worker has begun retiring (it is draining, or its
// retire hooks are running or have run). A native module refuses to start anything
// new then, since no hook would undo it. Loop goroutine only.
func (w *Worker) Retiring() bool { return w.retiring }

// runRetireHooks runs the retire hooks on the loop and waits for them.
func (w *Worker) runRetireHooks() {
	w.Sync(func(*goja.Runtime) error {
		for _, fn := range w.onRetire {
			w.runHook(fn)
		}
		return nil
	})
}

// drain marks the worker retiring (nothing new starts) and clears its intervals,
// then waits, up to the event time limit, for the promises of the events and
// requests already run to settle, so that an async handler that was awaiting
// something (a timer, the store) when its generation retired still answers. Its
// setTimeout timers and promise jobs go on meanwhile.
func (w *Worker) drain() {
	var wait chan struct{}
	var n int
	w.Sync(func(*goja.Runtime) error {
		w.retiring = true
		for iv := range w.intervals {
			w.loop.ClearInterval(iv)
		}
		clear(w.intervals)
		if n = w.unsettled; n > 0 {
			wait = make(chan struct{})
			w.drained = wait
		}
		return nil
	})
	if wait == nil {
		return
	}
	timer := time.NewTimer(w.opts.EventTimeout)
	defer timer.Stop()
	select {
	case <-wait:
	case <-timer.C:
		w.log.Warn("handlers still awaiting when their code was replaced were stopped: their replies are lost", "pending", n, "limit", w.opts.EventTimeout)
	}
}

func (w *Worker) runHook(fn func()) {
	defer func() {
		if r := recover(); r != nil {
			w.log.Error("internal error in a retire hook", "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
		}
	}()
	fn()
}
