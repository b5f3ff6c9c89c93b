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
	// Publish delivers m to every member of room in project except those whose ids
	// are in except, and returns how many it was handed to.
	Publish(project, room string, m *Message, except []string) int
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

// Broadcast implements Broker.
func (b *Local) Broadcast(endpoint string, m *Message, except []string) int {
	return deliver(b.hub.Connections(endpoint), m, except)
}

// Publish implements Broker.
func (b *Local) Publish(project, room string, m *Message, except []string) int {
	return deliver(b.hub.Members(project, room), m, except)
}

// deliver hands m to every receiver not in except. The frame is prepared once for
// all of them; the hub's lock was held only to take the snapshot, never while writing.
func deliver(receivers []*Conn, m *Message, except []string) int {
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
