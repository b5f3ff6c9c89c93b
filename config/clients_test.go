package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testCA returns a PEM self-signed CA certificate and the certificate.
func testCA(t *testing.T) ([]byte, *x509.Certificate) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "blimp test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), cert
}

func TestClientsCAFile(t *testing.T) {
	dir := t.TempDir()
	caPEM, ca := testCA(t)
	write := func(name string, data []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := write("ca.pem", caPEM)
	for _, tc := range []struct {
		name, file, wantErr string
	}{
		{name: "default is empty", file: ""},
		{name: "valid bundle", file: good},
		{name: "missing file", file: filepath.Join(dir, "nope.pem"), wantErr: "clients.ca_file:"},
		{name: "no certificate", file: write("empty.pem", []byte("just text\n")), wantErr: "holds no PEM certificate"},
		{name: "broken certificate", file: write("bad.pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: []byte("nope")})), wantErr: "certificate 1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			toml := "[clients]\nca_file = " + quote(tc.file) + "\n"
			c, err := Parse("cfg.toml", []byte(toml), Default())
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || !strings.Contains(err.Error(), "clients.ca_file") {
					t.Fatalf("got error %v, want one naming clients.ca_file and containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("got error %v, want none", err)
			}
			pool, err := c.Clients.CertPool()
			if err != nil {
				t.Fatal(err)
			}
			if tc.file == "" {
				if pool != nil {
					t.Fatal("got a pool for an empty ca_file, want nil (the system's CAs)")
				}
				return
			}
			// The pool trusts the CA: a certificate it signed itself verifies.
			if _, err := ca.Verify(x509.VerifyOptions{Roots: pool}); err != nil {
				t.Fatalf("the pool does not trust the CA of ca_file: %v", err)
			}
		})
	}
}

func quote(s string) string { return `"` + strings.ReplaceAll(s, `\`, `\\`) + `"` }
