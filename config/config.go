package config

import (
	"bytes"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/blimp/blimp"
)

// Config is the whole server configuration. Its zero value is not usable; get one
// from Default or Load.
type Config struct {
	Server   Server   `toml:"server"`
	Projects Projects `toml:"projects"`
	Data     Data     `toml:"data"`
	TLS      TLS      `toml:"tls"`
	Clients  Clients  `toml:"clients"`
	Admin    Admin    `toml:"admin"`
	Runtime  Runtime  `toml:"runtime"`
	Log      Log      `toml:"log"`
}

// TLS configures HTTPS.
type TLS struct {
	Enabled bool   `toml:"enabled"`
	Cert    string `toml:"cert"`
	Key     string `toml:"key"`
}

// Clients configures the outbound WebSocket clients handlers create with
// websockets.createWebsocket.
type Clients struct {
	// CAFile is a PEM bundle of extra CA certificates trusted for wss://, on top
	// of the system's; empty means the system's only.
	CAFile string `toml:"ca_file"`
}

// CertPool returns the system's trusted CAs plus those of CAFile, or nil (the
// system's) when CAFile is empty. The file must hold at least one PEM
// certificate, and every certificate in it must parse.
func (c Clients) CertPool() (*x509.CertPool, error) {
	if c.CAFile == "" {
		return nil, nil
	}
	data, err := os.ReadFile(c.CAFile)
	if err != nil {
		return nil, err
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	n := 0
	for rest := data; ; {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		if block.Type != "CERTIFICATE" {
			continue
		}
		cert, err := x509.ParseCertificate(block.Bytes)
		if err != nil {
			return nil, fmt.Errorf("%s: certificate %d: %w", c.CAFile, n+1, err)
		}
		pool.AddCert(cert)
		n++
	}
	if n == 0 {
		return nil, fmt.Errorf("%s holds no PEM certificate (-----BEGIN CERTIFICATE-----)", c.CAFile)
	}
	return pool, nil
}

// Admin configures the HTTP admin API.
type Admin struct {
	// Token is the bearer token; empty turns the API off.
	Token string `toml:"token"`
}

// Server configures the listener and the connection layer.
type Server struct {
	Addr           string   `toml:"addr"`
	ReadLimit      int64    `toml:"read_limit"`
	QueueBytes     int      `toml:"queue_bytes"`
	WriteTimeout   Duration `toml:"write_timeout"`
	PingInterval   Duration `toml:"ping_interval"`
	PongTimeout    Duration `toml:"pong_timeout"`
	AllowedOrigins []string `toml:"allowed_origins"`
	HTTPBodyLimit  int64    `toml:"http_body_limit"`
	MaxConnections int      `toml:"max_connections"`
	HandshakeRate  float64  `toml:"handshake_rate"`
	ShutdownGrace  Duration `toml:"shutdown_grace"`
	ParkIdle       bool     `toml:"park_idle"`
}

// Projects configures where projects are found.
type Projects struct {
	Root  string `toml:"root"`
	Watch bool   `toml:"watch"`
}

// Data configures the embedded store.
type Data struct {
	Path string `toml:"path"`
}

// Runtime configures the JavaScript workers.
type Runtime struct {
	Workers      int      `toml:"workers"`
	EventTimeout Duration `toml:"event_timeout"`
	MaxCallStack int      `toml:"max_call_stack"`
}

// Log configures the server log.
type Log struct {
	Level  string `toml:"level"`
	Format string `toml:"format"`
}

// Duration is a time.Duration written in TOML as a Go duration string ("2s").
type Duration struct{ time.Duration }

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("%q is not a duration (write it like \"500ms\", \"2s\" or \"1m\")", text)
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration in Go syntax.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Default returns the embedded defaults (config.toml at the repository root).
func Default() Config {
	c, err := Parse("config.toml (embedded)", blimp.DefaultConfig, Config{})
	if err != nil {
		panic("embedded config.toml is invalid: " + err.Error())
	}
	return c
}

// Load returns the defaults overlaid by the file at path; an empty path means the
// defaults alone.
func Load(path string) (Config, error) {
	c := Default()
	if path == "" {
		return c, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return c, fmt.Errorf("config: %w", err)
	}
	return Parse(path, data, c)
}

// Parse decodes data (named name in errors) over base and validates the result.
func Parse(name string, data []byte, base Config) (Config, error) {
	c := base
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		var perr toml.ParseError
		if errors.As(err, &perr) {
			return base, fmt.Errorf("%s:%d:%d: %s", name, perr.Position.Line, perr.Position.Col, perr.Message)
		}
		return base, fmt.Errorf("%s: %w", name, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return base, fmt.Errorf("%s: unknown key %s (every key is listed in the default config.toml)", name, strings.Join(keys, ", "))
	}
	if err := c.Validate(); err != nil {
		return base, fmt.Errorf("%s: %w", name, err)
	}
	return c, nil
}

// Validate reports every value out of range, each naming its key, joined.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.Server.Addr == "" {
		bad("server.addr", "must not be empty (for example \":8080\")")
	}
	if c.Server.ReadLimit < 1 {
		bad("server.read_limit", "must be at least 1 byte, got %d", c.Server.ReadLimit)
	}
	if c.Server.HTTPBodyLimit < 1 {
		bad("server.http_body_limit", "must be at least 1 byte, got %d", c.Server.HTTPBodyLimit)
	}
	if c.Server.MaxConnections < 0 {
		bad("server.max_connections", "must be 0 (no limit) or more, got %d", c.Server.MaxConnections)
	}
	if c.Server.HandshakeRate < 0 {
		bad("server.handshake_rate", "must be 0 (no limit) or more, got %g", c.Server.HandshakeRate)
	}
	if c.Server.ShutdownGrace.Duration < 0 {
		bad("server.shutdown_grace", "must not be negative, got %s", c.Server.ShutdownGrace)
	}
	if c.Server.QueueBytes < 1024 {
		bad("server.queue_bytes", "must be at least 1024 bytes, got %d", c.Server.QueueBytes)
	}
	if c.Server.WriteTimeout.Duration <= 0 {
		bad("server.write_timeout", "must be positive, got %s", c.Server.WriteTimeout)
	}
	if c.Server.PingInterval.Duration <= 0 || c.Server.PongTimeout.Duration <= c.Server.PingInterval.Duration {
		bad("server.ping_interval", "must be positive and shorter than server.pong_timeout, got %s and %s",
			c.Server.PingInterval, c.Server.PongTimeout)
	}
	for _, o := range c.Server.AllowedOrigins {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || u.Scheme == "" || u.Host == "" || (u.Path != "" && u.Path != "/") {
			bad("server.allowed_origins", "%q is not an origin: write scheme://host[:port] or \"*\"", o)
		}
	}
	if c.Projects.Root == "" {
		bad("projects.root", "must not be empty")
	}
	if (c.TLS.Cert == "") != (c.TLS.Key == "") {
		bad("tls.cert", "tls.cert and tls.key go together: set both, or neither to generate a self-signed certificate")
	}
	if _, err := c.Clients.CertPool(); err != nil {
		bad("clients.ca_file", "%v", err)
	}
	if c.Admin.Token != "" && len(c.Admin.Token) < 16 {
		bad("admin.token", "must be at least 16 characters (or empty to turn the admin API off)")
	}
	if c.Data.Path == "" {
		bad("data.path", "must not be empty")
	}
	if c.Runtime.Workers < 1 || c.Runtime.Workers > 256 {
		bad("runtime.workers", "must be between 1 and 256, got %d", c.Runtime.Workers)
	}
	if c.Runtime.EventTimeout.Duration <= 0 {
		bad("runtime.event_timeout", "must be positive, got %s", c.Runtime.EventTimeout)
	}
	if c.Runtime.MaxCallStack < 16 {
		bad("runtime.max_call_stack", "must be at least 16, got %d", c.Runtime.MaxCallStack)
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be \"debug\", \"info\", \"warn\" or \"error\", got %q", c.Log.Level)
	}
	switch c.Log.Format {
	case "text", "json":
	default:
		bad("log.format", "must be \"text\" or \"json\", got %q", c.Log.Format)
	}
	return errors.Join(errs...)
}
