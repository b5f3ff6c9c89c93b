// Command gorilla is the plain Go baseline of blimp's connection-layer benchmark (see
// bench/README.md): a gorilla/websocket server that runs no script, serving the same
// two endpoints at the same paths as bench/projects/bench does under blimp.
//
//	/websockets/v4/service/echo    every message is sent back to its sender
//	/websockets/v4/service/fanout  every message is sent to every client of the
//	                               endpoint, the sender included
//
//	go run ./bench/gorilla [-addr 127.0.0.1:8080]
//
// It is written the way gorilla's examples/chat is: one reader goroutine and one
// writer goroutine per connection, the writer draining a buffered channel; a
// broadcast prepares its frame once (PreparedMessage) and hands it to every client's
// channel without blocking, dropping a client whose channel is full.
package main

import (
	"context"
	"flag"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
)

const (
	writeWait      = 10 * time.Second
	pongWait       = 60 * time.Second
	pingPeriod     = pongWait * 9 / 10
	maxMessageSize = 1 << 20
	// sendQueue is how many frames a client may have waiting for its writer: 64
	// rather than examples/chat's 256, since the buffer is allocated with the
	// channel and would dominate an idle connection's memory (64 x 40 bytes).
	sendQueue = 64
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 1024,
	CheckOrigin:     func(*http.Request) bool { return true },
}

// frame is one outgoing message: either raw data or a prepared broadcast frame.
type frame struct {
	kind     int
	data     []byte
	prepared *websocket.PreparedMessage
}

// client is one connection with its outgoing queue.
type client struct {
	ws   *websocket.Conn
	send chan frame
}

// hub maintains the set of fan-out clients and broadcasts messages to them.
// It is safe for concurrent use.
type hub struct {
	mu      sync.RWMutex // guards clients
	clients map[*client]struct{}
}

func (h *hub) add(c *client) {
	h.mu.Lock()
	h.clients[c] = struct{}{}
	h.mu.Unlock()
}

// remove drops c and reports whether it was still registered.
func (h *hub) remove(c *client) bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	if _, ok := h.clients[c]; !ok {
		return false
	}
	delete(h.clients, c)
	return true
}

// broadcast hands the frame, prepared once, to every client; a client whose queue is
// full is dropped as slow.
func (h *hub) broadcast(kind int, data []byte) {
	pm, err := websocket.NewPreparedMessage(kind, data)
	if err != nil {
		return
	}
	f := frame{prepared: pm}
	var slow []*client
	h.mu.RLock()
	for c := range h.clients {
		select {
		case c.send <- f:
		default:
			slow = append(slow, c)
		}
	}
	h.mu.RUnlock()
	for _, c := range slow {
		if h.remove(c) {
			close(c.send)
		}
	}
}

// serve upgrades r and runs the connection; fan is nil for echo.
func serve(w http.ResponseWriter, r *http.Request, fan *hub) {
	ws, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	c := &client{ws: ws, send: make(chan frame, sendQueue)}
	if fan != nil {
		fan.add(c)
	}
	go c.writePump()
	c.readPump(fan)
}

// readPump reads frames until the connection ends: echo sends each back, fan-out
// broadcasts it.
func (c *client) readPump(fan *hub) {
	defer func() {
		if fan == nil || fan.remove(c) {
			close(c.send)
		}
		c.ws.Close()
	}()
	c.ws.SetReadLimit(maxMessageSize)
	c.ws.SetReadDeadline(time.Now().Add(pongWait))
	c.ws.SetPongHandler(func(string) error { return c.ws.SetReadDeadline(time.Now().Add(pongWait)) })
	for {
		kind, data, err := c.ws.ReadMessage()
		if err != nil {
			return
		}
		c.ws.SetReadDeadline(time.Now().Add(pongWait))
		if fan != nil {
			fan.broadcast(kind, data)
			continue
		}
		select {
		case c.send <- frame{kind: kind, data: data}:
		default:
			return // slow consumer
		}
	}
}

// writePump writes queued frames and pings until the queue is closed.
func (c *client) writePump() {
	ticker := time.NewTicker(pingPeriod)
	defer func() {
		ticker.Stop()
		c.ws.Close()
	}()
	for {
		select {
		case f, ok := <-c.send:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if !ok {
				c.ws.WriteMessage(websocket.CloseMessage, []byte{})
				return
			}
			var err error
			if f.prepared != nil {
				err = c.ws.WritePreparedMessage(f.prepared)
			} else {
				err = c.ws.WriteMessage(f.kind, f.data)
			}
			if err != nil {
				return
			}
		case <-ticker.C:
			c.ws.SetWriteDeadline(time.Now().Add(writeWait))
			if err := c.ws.WriteMessage(websocket.PingMessage, nil); err != nil {
				return
			}
		}
	}
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "listen address")
	flag.Parse()

	fan := &hub{clients: map[*client]struct{}{}}
	mux := http.NewServeMux()
	for _, prefix := range []string{"/websockets/v4/service/", "/websockets/service/"} {
		mux.HandleFunc(prefix+"echo", func(w http.ResponseWriter, r *http.Request) { serve(w, r, nil) })
		mux.HandleFunc(prefix+"fanout", func(w http.ResponseWriter, r *http.Request) { serve(w, r, fan) })
	}
	l, err := net.Listen("tcp", *addr)
	if err != nil {
		log.Fatal(err)
	}
	log.Printf("gorilla baseline serving on %s", l.Addr())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Close() // hijacked WebSocket connections end with the process
	}()
	if err := srv.Serve(l); err != nil && err != http.ErrServerClosed {
		log.Fatal(err)
	}
}
