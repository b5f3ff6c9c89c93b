package server

import (
	"log/slog"

	"github.com/blimp/blimp/config"
	sdknet "github.com/blimp/blimp/sdk/net"
)

// newClients returns the registry of the server's outbound WebSocket clients
// (websockets.createWebsocket): they use the [server] connection limits and trust
// the system's CAs plus those of clients.ca_file.
func newClients(cfg config.Config, log *slog.Logger) *sdknet.Clients {
	roots, err := cfg.Clients.CertPool()
	if err != nil { // config.Validate checks the file at start; it changed since
		log.Error("clients.ca_file not loaded: wss:// clients trust the system's CAs only", "error", err)
	}
	return sdknet.NewClients(sdknet.ClientOptions{
		RootCAs:      roots,
		ReadLimit:    cfg.Server.ReadLimit,
		QueueBytes:   cfg.Server.QueueBytes,
		WriteTimeout: cfg.Server.WriteTimeout.Duration,
		PingInterval: cfg.Server.PingInterval.Duration,
		PongTimeout:  cfg.Server.PongTimeout.Duration,
	})
}
