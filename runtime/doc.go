// Package runtime runs handler modules: it compiles them (Loader), runs them in
// workers (one goja runtime and one event loop each, owned by one goroutine), and
// groups one project's workers and loaded handlers into a Generation, the unit that a
// reload builds, swaps in and retires.
//
// A Generation implements hub.Handler: connection events are queued to the worker the
// connection is pinned to, which calls the handler's onOpen, onMessage, onError and
// onClose (or, for Dirigible's older script style, runs the module body afresh) under
// the event time limit. Modules are CommonJS after esbuild; `require` resolves
// relative paths inside the project only, and `sdk/*` names through the Modules
// table the server passes in, one instance per worker.
//
// Native modules may drive events of their own through the same machinery: Fire
// runs any Handler (loaded with LoadHandler, resolved with ResolveHandler) for an
// Event, as sdk/net does for outbound clients, and OnRetire lets a module release
// what it holds for a worker when its generation retires.
//
// Concurrency: network goroutines never touch a goja runtime. Every call into
// JavaScript happens on the worker's loop goroutine; other goroutines hand work to it
// with Worker.Do. Retire hooks run on the loop too, before the worker stops.
// Generation methods are safe for concurrent use.
package runtime
