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
// The TypeScript declarations for handlers are in net.d.ts beside this file.
//
// Concurrency: the module is instantiated once per worker and its functions run on
// that worker's loop goroutine only.
package net
