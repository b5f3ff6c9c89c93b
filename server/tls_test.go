package server

import (
	"crypto/tls"
	"crypto/x509"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gorilla/websocket"

	"github.com/blimp/blimp/config"
	"github.com/blimp/blimp/internal/wstest"
)

func TestTLSSelfSigned(t *testing.T) {
	var dataPath string
	root := t.TempDir()
	wstest.WriteFiles(t, root, map[string]string{
		"app/echo.websocket": `{"endpoint": "echo", "handler": "app/echo"}`,
		"app/echo.js":        `export const onMessage = (m) => m;`,
		"app/info.http":      `{"path": "/System/Info", "handler": "app/info"}`,
		"app/info.js":        `export const onRequest = (req) => ({ secure: req.secure, host: req.headers.host });`,
	})
	s := start(t, root, func(c *config.Config) {
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
	s.log.WaitFor(t, "sha256=")

	roots := x509.NewCertPool()
	roots.AddCert(cert)
	trust := &tls.Config{RootCAs: roots}
	c := wstest.Dial(t, "wss://"+s.addr+ServicePath+"echo", nil, trust)
	if got := c.Ask("secure"); got != "secure" {
		t.Fatalf("got %q over wss, want the echo", got)
	}

	httpc := &http.Client{Transport: &http.Transport{TLSClientConfig: trust}}
	resp, err := httpc.Get("https://" + s.addr + "/System/Info")
	if err != nil {
		t.Fatalf("https request trusting the generated certificate: %v", err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), `"secure":true`) || !strings.Contains(string(body), `"host":"`+s.addr+`"`) {
		t.Fatalf("got %d %s over https, want the handler's JSON", resp.StatusCode, body)
	}

	untrusting := websocket.Dialer{TLSClientConfig: &tls.Config{RootCAs: x509.NewCertPool()}}
	if _, _, err := untrusting.Dial("wss://"+s.addr+ServicePath+"echo", nil); err == nil {
		t.Fatal("a client that does not trust the certificate connected")
	}
}
