package server

import (
	"crypto/tls"
	"crypto/x509"
	"os"
	"path/filepath"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
)

func TestTLSSelfSigned(t *testing.T) {
	var dataPath string
	s := start(t, "../projects", func(c *config.Config) {
		c.TLS.Enabled = true
		dataPath = c.Data.Path
	})
	cert := s.SelfSigned()
	if cert == nil {
		t.Fatal("no self-signed certificate generated")
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(dataPath), SelfSignedFile)); err != nil {
		t.Fatalf("self-signed certificate not written beside the store: %v", err)
	}
	s.log.waitFor(t, "sha256=")

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	dialer := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: roots}}
	ws, _, err := dialer.Dial("wss://"+s.addr+ServicePath+"echo", nil)
	if err != nil {
		t.Fatalf("wss dial trusting the generated certificate: %v", err)
	}
	defer ws.Close()
	c := &client{t: t, ws: ws}
	if got := c.ask("secure"); got != "secure" {
		t.Fatalf("got %q over wss, want the echo", got)
	}

	untrusting := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}
	if _, _, err := untrusting.Dial("wss://"+s.addr+ServicePath+"echo", nil); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
}
