package hub

// Broker delivers messages addressed by connection id or endpoint to the connections
// that should receive them. Every fan-out in blimp goes through a Broker, so that a
// cluster broker can later deliver across nodes behind the same interface.
// Implementations are safe for concurrent use.
type Broker interface {
	// Send delivers m to the connection with id and reports whether it was found.
	Send(id string, m *Message) bool
	// Broadcast delivers m to every connection of endpoint except those whose ids
	// are in except, and returns how many it was handed to.
	Broadcast(endpoint string, m *Message, except []string) int
}

// Local is the in-process Broker: it delivers to the connections of one Hub.
type Local struct {
	hub *Hub
}

// NewLocal returns a Broker delivering to h's connections.
func NewLocal(h *Hub) *Local { return &Local{hub: h} }

// Send implements Broker.
func (b *Local) Send(id string, m *Message) bool {
	c := b.hub.Get(id)
	if c == nil {
		return false
	}
	return c.Send(m) == nil
}

// Broadcast implements Broker. The frame is prepared once; the hub's lock is held only
// to take a snapshot of the receivers, never while writing.
func (b *Local) Broadcast(endpoint string, m *Message, except []string) int {
	receivers := b.hub.Connections(endpoint)
	if len(receivers) > 1 {
		m.Prepared()
	}
	n := 0
	for _, c := range receivers {
		if contains(except, c.ID) {
			continue
		}
		if c.Send(m) == nil {
			n++
		}
	}
	return n
}

func contains(ids []string, id string) bool {
	for _, x := range ids {
		if x == id {
			return true
		}
	}
	return false
}
