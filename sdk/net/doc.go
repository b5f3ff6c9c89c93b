// Package net is the "sdk/net" module handlers import: the `websockets` object of
// Eclipse Dirigible's sdk/net API (the context functions getMethod, getMessage,
// getError, isOnOpen, isOnMessage, isOnError, isOnClose) plus blimp's connection
// functions getConnection, getConnections, count, send and broadcast, and rooms
// (publish, members; a connection's join, leave and rooms are in package runtime).
//
// Connections and rooms are scoped to the calling handler's project: a project sees,
// counts and sends to its own endpoints' connections and its own rooms only. Room
// membership lives in the hub, outside the JavaScript runtime, so it survives reloads. Fan-out goes through the
// hub.Broker the runtime was given.
//
// Outbound clients (client.go, clientconn.go): Clients.Module adds Dirigible's
// createWebsocket, getClients, getClient and getClientByHandler. A client belongs
// to the project and the worker that created it: its events (onOpen, onMessage,
// onError, onClose, with the WebsocketClient as the connection argument) run that
// worker's copy of the handler module through runtime.Worker.Fire, so the context
// functions answer for them and script-style handlers work as for endpoints. When
// the worker retires (reload, project removed, shutdown) a runtime.Worker.OnRetire
// hook closes its clients with 1001 and runs their onClose; they are not re-created.
//
// The TypeScript declarations for handlers are in net.d.ts beside this file.
//
// Concurrency: the module is instantiated once per worker and its functions run on
// that worker's loop goroutine only. Each outbound client has one goroutine that
// dials and then reads, and a writer goroutine only while frames are queued; they
// never touch a goja runtime but queue events to the client's worker (Worker.Do),
// at most 64 received messages at a time (backpressure). What JavaScript sees of a
// client (its state, getClients) changes on that worker's loop only. Clients is
// safe for concurrent use.
package net
