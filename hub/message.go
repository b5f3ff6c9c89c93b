package hub

import (
	"sync"

	"github.com/gorilla/websocket"
)

// Message is one encoded frame, ready to be written to any number of connections.
// Data must not be modified once the Message is sent. It is safe for concurrent use.
type Message struct {
	// Binary reports whether the frame is binary; otherwise it is text.
	Binary bool
	// Data is the payload.
	Data []byte

	once     sync.Once
	prepared *websocket.PreparedMessage
}

// NewText returns a text message.
func NewText(s string) *Message { return &Message{Data: []byte(s)} }

// NewBinary returns a binary message holding b (not copied).
func NewBinary(b []byte) *Message { return &Message{Binary: true, Data: b} }

func (m *Message) frameType() int {
	if m.Binary {
		return websocket.BinaryMessage
	}
	return websocket.TextMessage
}

// Prepared returns the frame encoded once for all receivers of a fan-out.
func (m *Message) Prepared() *websocket.PreparedMessage {
	m.once.Do(func() {
		pm, err := websocket.NewPreparedMessage(m.frameType(), m.Data)
		if err == nil {
			m.prepared = pm
		}
	})
	return m.prepared
}
