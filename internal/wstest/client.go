package wstest

import (
	"crypto/tls"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// Timing of a Client.
const (
	// handshakeTimeout bounds the opening handshake of Dial and TryDial.
	handshakeTimeout = 5 * time.Second
	// readTimeout bounds every read that fails the test when nothing comes.
	readTimeout = 5 * time.Second
	// closeWait bounds the write of a close frame.
	closeWait = time.Second
)

// Client is a WebSocket client for tests: its reads fail the test when nothing
// arrives within a few seconds, and every failure is reported to its test. It
// belongs to that test (see On for subtests).
type Client struct {
	t testing.TB
	// WS is the connection, for what the methods do not cover.
	WS *websocket.Conn
}

// NewClient returns a Client on ws that reports to t. The caller keeps ws: closing
// it is up to the caller.
func NewClient(t testing.TB, ws *websocket.Conn) *Client {
	return &Client{t: t, WS: ws}
}

// Dial connects to url (ws:// or wss://) with extra request headers (may be nil),
// trusting tlsConfig (nil for the defaults), and fails the test if it cannot. The
// connection closes when the test ends.
func Dial(t testing.TB, url string, header http.Header, tlsConfig *tls.Config) *Client {
	t.Helper()
	c, resp, err := TryDial(t, url, header, tlsConfig)
	if err != nil {
		status := 0
		if resp != nil {
			status = resp.StatusCode
		}
		t.Fatalf("dial %s: %v (HTTP %d)", url, err, status)
	}
	return c
}

// TryDial is Dial that returns the handshake response and error as they are instead
// of failing the test.
func TryDial(t testing.TB, url string, header http.Header, tlsConfig *tls.Config) (*Client, *http.Response, error) {
	d := websocket.Dialer{HandshakeTimeout: handshakeTimeout, TLSClientConfig: tlsConfig}
	ws, resp, err := d.Dial(url, header)
	if err != nil {
		return nil, resp, err
	}
	t.Cleanup(func() { ws.Close() })
	return NewClient(t, ws), resp, nil
}

// On returns a Client on the same connection that reports to t, for using a
// test's client in its subtests (a subtest must not call FailNow on its parent).
func (c *Client) On(t testing.TB) *Client {
	return NewClient(t, c.WS)
}

// ReadInBackground reads messages on a goroutine of its own until the connection
// fails, sending each text on the returned channel (of capacity buffer), which is
// closed then. Reading all the time makes gorilla answer the server's pings and
// run the pong handler. After it the Client's own reads must not be used.
func (c *Client) ReadInBackground(buffer int) <-chan string {
	out := make(chan string, buffer)
	go func() {
		defer close(out)
		for {
			_, data, err := c.WS.ReadMessage()
			if err != nil {
				return
			}
			out <- string(data)
		}
	}()
	return out
}

// Send sends a text message.
func (c *Client) Send(msg string) {
	c.t.Helper()
	if err := c.WS.WriteMessage(websocket.TextMessage, []byte(msg)); err != nil {
		c.t.Fatalf("send %q: %v", msg, err)
	}
}

// SendBinary sends a binary message.
func (c *Client) SendBinary(b []byte) {
	c.t.Helper()
	if err := c.WS.WriteMessage(websocket.BinaryMessage, b); err != nil {
		c.t.Fatalf("send binary %x: %v", b, err)
	}
}

// Read returns the next message's type and payload.
func (c *Client) Read() (int, string) {
	c.t.Helper()
	c.WS.SetReadDeadline(time.Now().Add(readTimeout))
	kind, data, err := c.WS.ReadMessage()
	if err != nil {
		c.t.Fatalf("read: %v", err)
	}
	return kind, string(data)
}

// ReadText returns the next message, which must be text.
func (c *Client) ReadText() string {
	c.t.Helper()
	kind, data := c.Read()
	if kind != websocket.TextMessage {
		c.t.Fatalf("got a binary message %q, want text", data)
	}
	return data
}

// Expect reads the next message and checks it is the text want.
func (c *Client) Expect(want string) {
	c.t.Helper()
	kind, got := c.Read()
	if kind != websocket.TextMessage || got != want {
		c.t.Fatalf("got message %q (type %d), want text %q", got, kind, want)
	}
}

// Ask sends msg and returns the next message, which must be text.
func (c *Client) Ask(msg string) string {
	c.t.Helper()
	c.Send(msg)
	return c.ReadText()
}

// Quiet reports whether no message arrives within d. A read that times out leaves
// a gorilla connection unusable for reading, so use Quiet as a client's last read.
func (c *Client) Quiet(d time.Duration) bool {
	c.WS.SetReadDeadline(time.Now().Add(d))
	_, _, err := c.WS.ReadMessage()
	return err != nil
}

// CloseWith sends a close frame with code and reason.
func (c *Client) CloseWith(code int, reason string) {
	c.t.Helper()
	msg := websocket.FormatCloseMessage(code, reason)
	if err := c.WS.WriteControl(websocket.CloseMessage, msg, time.Now().Add(closeWait)); err != nil {
		c.t.Fatalf("close %d: %v", code, err)
	}
}

// ExpectClose reads until the peer closes the connection and returns the close
// code and reason.
func (c *Client) ExpectClose() (int, string) {
	c.t.Helper()
	c.WS.SetReadDeadline(time.Now().Add(readTimeout))
	for {
		_, _, err := c.WS.ReadMessage()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		c.t.Fatalf("read ended with %v, want a close frame", err)
	}
}
