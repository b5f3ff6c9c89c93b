// Package hub is blimp's connection layer: it owns every open WebSocket connection,
// reads frames from each into a Handler, writes to each through a bounded queue, and
// fans messages out through a Broker.
//
// Each Conn has at most one reader goroutine (Serve) and at most one writer goroutine,
// which exists only while frames are queued: an idle connection parks no writer. With
// Options.ParkIdle (Linux, plain TCP) an idle connection parks no reader either: one
// epoll poller per Hub (park_linux.go) watches it and starts a reader when the client
// sends a frame; framescan.go follows the client's frames so that a reader stops only
// when gorilla's buffer is empty, and consumes pings (answering them) and pongs so that
// they wake no reader. The writer
// gathers every queued frame into one write (batch.go wraps the hijacked network
// connection for that). The queue is bounded in bytes; a client that does not keep
// up is closed with 1008 instead of growing memory. That sending side (the queue, its
// close frame and the writer) is an Outbox, which sdk/net's outbound clients use too,
// on network connections dialed with DialBatching. Broadcasts and room publishes
// encode their frame once (a Message) and hand the same bytes to every receiver.
// Rooms (per project) are held here, outside any JavaScript runtime, so membership
// survives reloads.
//
// Concurrency: Hub, Conn and Outbox are safe for concurrent use. Handler methods for
// one Conn are called from its reader goroutine (one at a time, in order, even when a
// parked connection resumes on a new one); a Handler must not block
// for long (the runtime queues the event to a JavaScript worker and returns).
package hub
