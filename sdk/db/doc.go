// Package db is the "sdk/db" module handlers import: `store`, the project's document
// store (package store on the server's one bbolt file). Every method returns a
// Promise, so one worker keeps many writes in flight and they commit together; save
// resolves with the new id once the write is on disk.
//
// Collections are namespaced by the calling handler's project. Query objects are
// parsed synchronously: a malformed query is thrown at the call, with what is wrong.
//
// The TypeScript declarations for handlers are in db.d.ts beside this file.
//
// Concurrency: the module is instantiated once per worker. Store calls run on their
// own goroutines and hand their results back to the worker's loop with Worker.Do.
package db
