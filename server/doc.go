// Package server wires blimp together: it scans the projects root, starts one
// runtime.Generation per project, keeps the routing snapshot (endpoint table plus
// generations) in an atomic pointer, upgrades HTTP requests on endpoint URLs into
// hub connections, and routes each connection's events to the current generation of
// its project.
//
// Loading a project builds its new generation on the side; only a generation that
// loaded completely is swapped in, so a broken change leaves the old one serving.
// The watcher (watch.go) reloads projects when their files change; the admin API
// (admin.go) reloads on request and reports the last load result of each project.
//
// Concurrency: Server is safe for concurrent use. Loads are serialized by a mutex;
// request handling and event routing read the routing snapshot without locks. The
// watcher is one goroutine that ends with the context given to Serve.
package server
