// Package endpoints turns project folders into endpoints: it parses and validates
// `.websocket` descriptors, scans a projects root, resolves each descriptor's handler
// module inside its own project, and builds the routing Table that maps endpoint names
// to descriptors.
//
// Every problem is an *Error naming the file (and line:column where it has one), so
// the log and `blimp check` can point the user at it; a file with several problems
// yields one *Error each, joined. One broken project never hides the others.
//
// Concurrency: a Table is immutable once built and safe for concurrent use; the server
// swaps whole tables atomically on reload. Scanning reads the filesystem and is
// meant to run on one goroutine at a time per project.
package endpoints
