package server

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"time"
)

// SelfSignedFile is the name of the generated certificate, written beside the store.
const SelfSignedFile = "blimp-selfsigned.pem"

// tlsConfig returns the TLS configuration for the listener: the configured
// certificate and key, or a self-signed certificate for localhost made now.
func (s *Server) tlsConfig() (*tls.Config, error) {
	if s.cfg.TLS.Cert != "" {
		cert, err := tls.LoadX509KeyPair(s.cfg.TLS.Cert, s.cfg.TLS.Key)
		if err != nil {
			return nil, fmt.Errorf("tls: loading tls.cert %s and tls.key %s: %w", s.cfg.TLS.Cert, s.cfg.TLS.Key, err)
		}
		return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
	}
	cert, der, err := selfSigned(time.Now())
	if err != nil {
		return nil, fmt.Errorf("tls: generating a self-signed certificate: %w", err)
	}
	sum := sha256.Sum256(der)
	pemPath := filepath.Join(filepath.Dir(s.cfg.Data.Path), SelfSignedFile)
	attrs := []any{"sha256", hex.EncodeToString(sum[:]), "hosts", "localhost,127.0.0.1,::1"}
	if err := os.MkdirAll(filepath.Dir(pemPath), 0o755); err == nil {
		if err := os.WriteFile(pemPath, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644); err == nil {
			attrs = append(attrs, "cert", pemPath)
		}
	}
	s.log.Info("TLS with a generated self-signed certificate; trust it in clients or configure tls.cert and tls.key", attrs...)
	s.mu.Lock()
	s.selfSigned = cert.Leaf
	s.mu.Unlock()
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, nil
}

// SelfSigned returns the certificate the server generated for TLS, or nil. Clients
// (tests among them) can add it to their trusted roots.
func (s *Server) SelfSigned() *x509.Certificate {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.selfSigned
}

// selfSigned makes a certificate for localhost that is its own CA, valid for a year.
func selfSigned(now time.Time) (tls.Certificate, []byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 128))
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "localhost", Organization: []string{"blimp self-signed"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(365 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, nil, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, der, nil
}
