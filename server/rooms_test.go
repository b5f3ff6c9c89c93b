package server

import (
	"fmt"
	"testing"
	"time"

	"github.com/blimp/blimp/internal/wstest"
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
	wstest.WriteFiles(t, root, map[string]string{
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
	for _, c := range []*wstest.Client{ada, bob, cy} {
		if got := c.Ask("join lobby"); got != "joined true" {
			t.Fatalf("got %q, want joined true", got)
		}
	}
	other.Ask("join lobby") // same room name, other project: a different room
	ada.Ask("join x")
	if got := ada.Ask("rooms"); got != "lobby,x" {
		t.Fatalf("rooms: got %q, want lobby,x", got)
	}
	if got := ada.Ask("members lobby"); got != "ada,bob,cy" {
		t.Fatalf("members: got %q, want ada,bob,cy (project a only)", got)
	}

	// publish reaches every member, across endpoints of the project, sender included.
	ada.Send("pub lobby hello")
	for _, c := range []*wstest.Client{ada, bob, cy} {
		got := map[string]bool{}
		n := 1
		if c == ada {
			n = 2 // the reply and the message itself, in either order
		}
		for i := 0; i < n; i++ {
			_, m := c.Read()
			got[m] = true
		}
		if !got["a:hello"] || (c == ada && !got["delivered 3"]) {
			t.Fatalf("got %v, want a:hello (and delivered 3 for the sender)", got)
		}
	}
	if !other.Quiet(150 * time.Millisecond) {
		t.Fatal("a member of project b's lobby got project a's message")
	}

	// except leaves the sender out.
	if got := bob.Ask("pubx lobby psst"); got != "delivered 2" {
		t.Fatalf("got %q, want delivered 2", got)
	}
	ada.Expect("a:psst")
	cy.Expect("a:psst")

	// leave, and leaving on close.
	cy.Ask("leave lobby")
	cy.WS.Close()
	wstest.Eventually(t, func() string {
		if got := ada.Ask("members lobby"); got != "ada,bob" {
			return "members after leave: got " + got + ", want ada,bob"
		}
		return ""
	})
	bob.WS.Close()
	wstest.Eventually(t, func() string {
		if got := ada.Ask("members lobby"); got != "ada" {
			return "members after close: got " + got + ", want ada"
		}
		return ""
	})
	ada.Send("bad")
	s.log.WaitFor(t, "conn.join: a room name is a non-empty string")
}

func TestRoomMembershipSurvivesReload(t *testing.T) {
	root, s := roomsProject(t)
	ada, bob := s.dial(t, "ra?name=ada"), s.dial(t, "ra?name=bob")
	ada.Ask("join lobby")
	bob.Ask("join lobby")
	wstest.WriteFiles(t, root, map[string]string{"a/r.js": fmt.Sprintf(roomsHandler, "v2", "v2")})
	wstest.Eventually(t, func() string {
		ada.Send("pubx lobby after")
		if got := ada.ReadText(); got != "delivered 1" {
			return "reply " + got
		}
		if got := bob.ReadText(); got != "v2:after" {
			return "bob got " + got + ", want v2:after"
		}
		return ""
	})
	if got := bob.Ask("rooms"); got != "lobby" {
		t.Fatalf("rooms after reload: got %q, want lobby", got)
	}
	// A member that has sent nothing since the reload still shows its conn.data.
	wstest.WriteFiles(t, root, map[string]string{"a/r.js": fmt.Sprintf(roomsHandler, "v3", "v3")})
	wstest.Eventually(t, func() string {
		if got := bob.Ask("pubx lobby v"); got != "delivered 1" {
			return "reply " + got
		}
		if got := ada.ReadText(); got != "v3:v" {
			return "not reloaded yet: " + got
		}
		return ""
	})
	if got := bob.Ask("names lobby"); got != "ada,bob" {
		t.Fatalf("members' data after a reload: got %q, want ada,bob", got)
	}
}
