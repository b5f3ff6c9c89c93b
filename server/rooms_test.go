package server

import (
	"fmt"
	"testing"
	"time"
)

// roomsHandler speaks a tiny command language: "join r", "leave r", "pub r text",
// "pubx r text" (except the sender), "rooms", "members r".
const roomsHandler = `
import { websockets } from "sdk/net";
export function onMessage(m, conn) {
  const [cmd, room, ...rest] = m.split(" ");
  switch (cmd) {
    case "join": conn.data.name = conn.query.name; return "joined " + conn.join(room);
    case "names": return websockets.members(room).map(c => c.data.name).sort().join(",");
    case "leave": conn.leave(room); return "left " + room;
    case "pub": return "delivered " + websockets.publish(room, "%s:" + rest.join(" "));
    case "pubx": return "delivered " + websockets.publish(room, "%s:" + rest.join(" "), { except: conn });
    case "rooms": return conn.rooms().join(",");
    case "members": return websockets.members(room).map(c => c.query.name).sort().join(",");
    case "bad": conn.join(""); return "unreachable";
  }
}`

func roomsProject(t *testing.T) (string, *testServer) {
	root := t.TempDir()
	writeFiles(t, root, map[string]string{
		"a/r.websocket":  `{"handler": "a/r", "endpoint": "ra"}`,
		"a/r.js":         fmt.Sprintf(roomsHandler, "a", "a"),
		"a/r2.websocket": `{"handler": "a/r", "endpoint": "ra2"}`,
		"b/r.websocket":  `{"handler": "b/r", "endpoint": "rb"}`,
		"b/r.js":         fmt.Sprintf(roomsHandler, "b", "b"),
	})
	return root, start(t, root, nil)
}

func TestRooms(t *testing.T) {
	_, s := roomsProject(t)
	ada, bob, cy := s.dial(t, "ra?name=ada"), s.dial(t, "ra2?name=bob"), s.dial(t, "ra?name=cy")
	other := s.dial(t, "rb?name=zed")
	for _, c := range []*client{ada, bob, cy} {
		if got := c.ask("join lobby"); got != "joined true" {
			t.Fatalf("got %q, want joined true", got)
		}
	}
	other.ask("join lobby") // same room name, other project: a different room
	ada.ask("join x")
	if got := ada.ask("rooms"); got != "lobby,x" {
		t.Fatalf("rooms: got %q, want lobby,x", got)
	}
	if got := ada.ask("members lobby"); got != "ada,bob,cy" {
		t.Fatalf("members: got %q, want ada,bob,cy (project a only)", got)
	}

	// publish reaches every member, across endpoints of the project, sender included.
	ada.send("pub lobby hello")
	for _, c := range []*client{ada, bob, cy} {
		got := map[string]bool{}
		n := 1
		if c == ada {
			n = 2 // the reply and the message itself, in either order
		}
		for i := 0; i < n; i++ {
			_, m := c.read()
			got[m] = true
		}
		if !got["a:hello"] || (c == ada && !got["delivered 3"]) {
			t.Fatalf("got %v, want a:hello (and delivered 3 for the sender)", got)
		}
	}
	if !other.quiet() {
		t.Fatal("a member of project b's lobby got project a's message")
	}

	// except leaves the sender out.
	if got := bob.ask("pubx lobby psst"); got != "delivered 2" {
		t.Fatalf("got %q, want delivered 2", got)
	}
	ada.expect("a:psst")
	cy.expect("a:psst")

	// leave, and leaving on close.
	cy.ask("leave lobby")
	cy.ws.Close()
	eventually(t, func() string {
		if got := ada.ask("members lobby"); got != "ada,bob" {
			return "members after leave: got " + got + ", want ada,bob"
		}
		return ""
	})
	bob.ws.Close()
	eventually(t, func() string {
		if got := ada.ask("members lobby"); got != "ada" {
			return "members after close: got " + got + ", want ada"
		}
		return ""
	})
	ada.send("bad")
	s.log.waitFor(t, "conn.join: a room name is a non-empty string")
}

func TestRoomMembershipSurvivesReload(t *testing.T) {
	root, s := roomsProject(t)
	ada, bob := s.dial(t, "ra?name=ada"), s.dial(t, "ra?name=bob")
	ada.ask("join lobby")
	bob.ask("join lobby")
	writeFiles(t, root, map[string]string{"a/r.js": fmt.Sprintf(roomsHandler, "v2", "v2")})
	eventually(t, func() string {
		ada.send("pubx lobby after")
		if got := ada.readText(); got != "delivered 1" {
			return "reply " + got
		}
		if got := bob.readText(); got != "v2:after" {
			return "bob got " + got + ", want v2:after"
		}
		return ""
	})
	if got := bob.ask("rooms"); got != "lobby" {
		t.Fatalf("rooms after reload: got %q, want lobby", got)
	}
	// A member that has sent nothing since the reload still shows its conn.data.
	writeFiles(t, root, map[string]string{"a/r.js": fmt.Sprintf(roomsHandler, "v3", "v3")})
	eventually(t, func() string {
		if got := bob.ask("pubx lobby v"); got != "delivered 1" {
			return "reply " + got
		}
		if got := ada.readText(); got != "v3:v" {
			return "not reloaded yet: " + got
		}
		return ""
	})
	if got := bob.ask("names lobby"); got != "ada,bob" {
		t.Fatalf("members' data after a reload: got %q, want ada,bob", got)
	}
}

// readText returns the next message as text.
func (c *client) readText() string {
	c.t.Helper()
	_, m := c.read()
	return m
}

// quiet reports whether no message arrives for a short while.
func (c *client) quiet() bool {
	c.ws.SetReadDeadline(time.Now().Add(150 * time.Millisecond))
	_, _, err := c.ws.ReadMessage()
	return err != nil
}
