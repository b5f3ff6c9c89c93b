package server

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

// A handler's onError fired from a failed promise job must not switch off the
// time limit for the promise jobs that follow in the same turn.
func TestTimeLimitHoldsAfterNestedOnError(t *testing.T) {
	s := startFiles(t, map[string]string{
		"p/n.websocket": `{"endpoint": "n", "handler": "p/n"}`,
		"p/n.js": `
import { store } from "sdk/db";
export function onError(e, conn) { conn.send("onError"); }
export function onMessage(m, conn) {
  if (m !== "nested") return "pong";
  const p = store.count("x");
  const r = (async () => { await p; throw new Error("boom"); })();
  p.then(() => null).then(() => { while (true) {} });
  return r;
}`,
	})
	c := s.dial(t, "n")
	c.Send("nested")
	c.Expect("onError")
	if got := c.Ask("ping"); got != "pong" {
		t.Fatalf("got %q, want pong: the worker must survive the runaway promise job", got)
	}
	s.log.WaitFor(t, "exceeded the time limit")
}

// A script that shadows a typed array's byteLength gets a JS error it can catch,
// never a Go panic.
func TestShadowedByteLengthIsNotAPanic(t *testing.T) {
	s := startFiles(t, map[string]string{
		"p/b.websocket": `{"endpoint": "b", "handler": "p/b"}`,
		"p/b.js": `
export function onMessage(m, conn) {
  const a = new Uint8Array(4);
  Object.defineProperty(a, "byteLength", { value: 1e6 });
  try { conn.send(a); } catch (e) {}
  return "done";
}`,
	})
	c := s.dial(t, "b")
	c.Send("x")
	for i := 0; ; i++ {
		if got := c.ReadText(); got == "done" {
			break
		}
		if i > 1 {
			t.Fatal("the handler never finished")
		}
	}
	if strings.Contains(s.log.String(), "internal error") {
		t.Fatalf("a script reached a Go panic:\n%s", s.log.String())
	}
}

// Removing a project that has only HTTP handlers must not close anyone else's
// WebSocket connections.
func TestRemovingHTTPOnlyProjectKeepsOthers(t *testing.T) {
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"a/e.websocket": `{"endpoint": "e", "handler": "a/e"}`,
		"a/e.js":        `export const onMessage = (m) => m;`,
		"b/i.http":      `{"path": "/info", "handler": "b/i"}`,
		"b/i.js":        `export const onRequest = () => "info";`,
	})
	s := start(t, root, nil)
	c := s.dial(t, "e")
	if err := os.RemoveAll(filepath.Join(root, "b")); err != nil {
		t.Fatal(err)
	}
	wstest.Eventually(t, func() string {
		for _, st := range s.Statuses() {
			if st.Project == "b" {
				return "project b not retired yet"
			}
		}
		return ""
	})
	if got := c.Ask("still"); got != "still" {
		t.Fatalf("got %q, the other project's connection must stay open", got)
	}
}

// store.save writes what JSON.stringify writes: toJSON honoured, undefined and
// functions left out.
func TestStoreSavesJSONForm(t *testing.T) {
	s := startFiles(t, map[string]string{
		"p/d.websocket": `{"endpoint": "d", "handler": "p/d"}`,
		"p/d.js": `
import { store } from "sdk/db";
class Money { constructor(c) { this.cents = c; } toJSON() { return (this.cents / 100).toFixed(2); } }
export async function onMessage() {
  const id = await store.save("x", { price: new Money(150), gone: undefined, f() {}, n: 3 });
  const doc = await store.get("x", id);
  return JSON.stringify([doc.price, "gone" in doc, "f" in doc, doc.n]);
}`,
	})
	if got := s.dial(t, "d").Ask("go"); got != `["1.50",false,false,3]` {
		t.Fatalf("got %s, want the JSON.stringify form", got)
	}
}

// Handlers that look at every connection at load time and in events must not make
// an old and a new generation wait on each other during a reload.
func TestReloadWithConnectionScansDoesNotDeadlock(t *testing.T) {
	root := t.TempDir()
	handler := `
import { websockets } from "sdk/net";
websockets.getConnections().forEach((c) => c.data.seen = (c.data.seen || 0) + 1);
export function onMessage(m, conn) { return String(websockets.getConnections().length); }
// version %d`
	wstest.WriteFiles(t, root, map[string]string{
		"p/s.websocket": `{"endpoint": "s", "handler": "p/s"}`,
		"p/s.js":        fmt.Sprintf(handler, 0),
	})
	s := start(t, root, func(c *config.Config) { c.Projects.Watch = false })
	clients := []*wstest.Client{s.dial(t, "s"), s.dial(t, "s"), s.dial(t, "s")}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Add(1)
		go func(c *wstest.Client) {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if c.WS.WriteMessage(websocket.TextMessage, []byte("n")) != nil {
					return
				}
				c.WS.SetReadDeadline(time.Now().Add(5 * time.Second))
				if _, _, err := c.WS.ReadMessage(); err != nil {
					return
				}
			}
		}(c)
	}
	for i := 1; i <= 30; i++ {
		wstest.WriteFiles(t, root, map[string]string{"p/s.js": fmt.Sprintf(handler, i)})
		done := make(chan error, 1)
		go func() { done <- s.LoadProject("p") }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatal(err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("reload %d never finished: generations are waiting on each other", i)
		}
	}
	close(stop)
	wg.Wait()
	if got := clients[0].Ask("n"); got != "3" {
		t.Fatalf("got %q, want 3 connections after the reloads", got)
	}
}
