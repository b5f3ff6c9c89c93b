// /System/...: what a client asks first (where the web socket is), and the server
// life-cycle events: RestartRequired, ServerRestarting, ServerShuttingDown.
// Descriptors: System.Info.http, System.Info.Public.http, System.Configuration.http,
// System.Restart.http, System.Shutdown.http.

import settings from "../settings.json";
import { pushToAll } from "../lib/events";
import { noContent } from "./request";

// Set by a configuration change, cleared by a restart. Module state: a reload of
// the project forgets it, which is fine for a flag that only says "restart me".
let pendingRestart = false;

const routes = {
  // GET: the server's description. WebSocketPortNumber is the port hosting the web
  // socket; the client then connects to ws://hostname:{WebSocketPortNumber}/mediabrowser.
  "/System/Info": (req) => {
    const { hostname, port } = hostOf(req);
    return {
      ...publicInfo(hostname, port),
      OperatingSystem: settings.operatingSystem,
      WebSocketPortNumber: port,
      HttpServerPortNumber: port,
      SupportsHttps: false,
      HasPendingRestart: pendingRestart,
      IsShuttingDown: false,
      CanSelfRestart: false,
      SupportsLibraryMonitor: false,
    };
  },

  // GET: the subset a client may read before signing in.
  "/System/Info/Public": (req) => {
    const { hostname, port } = hostOf(req);
    return publicInfo(hostname, port);
  },

  // POST: stands in for a configuration change that needs a restart.
  "/System/Configuration": () => {
    pendingRestart = true;
    pushToAll("RestartRequired"); // no data: Data is ""
    return noContent;
  },

  // POST: announces a restart (this example does not actually restart).
  "/System/Restart": () => {
    pendingRestart = false;
    pushToAll("ServerRestarting");
    return noContent;
  },

  // POST: announces a shutdown (this example does not actually stop).
  "/System/Shutdown": () => {
    pushToAll("ServerShuttingDown");
    return noContent;
  },
};

export function onRequest(req) {
  return routes[req.path](req);
}

function publicInfo(hostname, port) {
  return {
    LocalAddress: "http://" + hostname + ":" + port,
    ServerName: settings.serverName,
    Version: settings.version,
    Id: settings.serverId,
  };
}

/**
 * The host name and port the client used to reach us, from the Host header
 * ("localhost:8080", "[::1]:8080", "emby.example"). Without a port the client used
 * the scheme's default: 443 behind a proxy that says X-Forwarded-Proto: https, else 80.
 */
function hostOf(req) {
  const m = /^(\[[^\]]*\]|[^:]*)(?::(\d+))?$/.exec(req.headers.host || "");
  const hostname = m && m[1] ? m[1] : "localhost";
  const fallback = req.headers["x-forwarded-proto"] === "https" ? 443 : 80;
  return { hostname, port: m && m[2] ? Number(m[2]) : fallback };
}
