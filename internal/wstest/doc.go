// Package wstest gives end-to-end tests a WebSocket client with bounded reads, a
// log sink, file writing, bounded polling and a server's run on a loopback port.
//
// It sits below the packages that start servers: package server's own tests use it
// directly, and blimptest builds on it for tests outside package server. It must
// therefore not import package server.
//
// Concurrency: a Log is safe for concurrent use. A Client belongs to the test that
// made it: use it from that test's goroutine, or from a subtest through On.
package wstest
