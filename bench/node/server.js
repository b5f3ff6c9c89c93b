// The Node.js + ws baseline of blimp's connection-layer benchmark (see bench/README.md).
// It serves the same two endpoints, at the same paths, as bench/projects/bench does
// under blimp, with the handlers written in JavaScript the way a team using ws would:
//
//   /websockets/v4/service/echo    every message is sent back to its sender
//   /websockets/v4/service/fanout  every message is sent to every connected client of
//                                  the endpoint (the sender included), with ws's
//                                  recommended broadcast loop over wss.clients
//
//   node server.js [--addr 127.0.0.1:8080]
//
// Two WebSocketServers share one HTTP server (ws's "multiple servers sharing a single
// HTTP server" pattern), routed on the upgrade request's path.
"use strict";

const http = require("http");
const { WebSocketServer, WebSocket } = require("ws");

const PATHS = {
  echo: ["/websockets/v4/service/echo", "/websockets/service/echo"],
  fanout: ["/websockets/v4/service/fanout", "/websockets/service/fanout"],
};

function parseAddr(argv) {
  let addr = "127.0.0.1:8080";
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === "--addr" && i + 1 < argv.length) addr = argv[++i];
    else if (argv[i].startsWith("--addr=")) addr = argv[i].slice("--addr=".length);
  }
  const colon = addr.lastIndexOf(":");
  return { host: addr.slice(0, colon) || "127.0.0.1", port: Number(addr.slice(colon + 1)) };
}

// ws's defaults, spelled out: no compression (blimp's default too), a 1 MiB message
// limit like blimp's server.read_limit.
const options = { noServer: true, perMessageDeflate: false, maxPayload: 1 << 20 };

const echo = new WebSocketServer(options);
echo.on("connection", (ws) => {
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => {
    ws.send(data, { binary: isBinary });
  });
});

const fanout = new WebSocketServer(options);
fanout.on("connection", (ws) => {
  ws.on("error", () => {});
  ws.on("message", (data, isBinary) => {
    fanout.clients.forEach((client) => {
      if (client.readyState === WebSocket.OPEN) {
        client.send(data, { binary: isBinary });
      }
    });
  });
});

const server = http.createServer((req, res) => {
  res.writeHead(404, { "Content-Type": "text/plain" });
  res.end("not found\n");
});

server.on("upgrade", (req, socket, head) => {
  const path = new URL(req.url, "http://localhost").pathname;
  const wss = PATHS.echo.includes(path) ? echo : PATHS.fanout.includes(path) ? fanout : null;
  if (!wss) {
    socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
    return;
  }
  wss.handleUpgrade(req, socket, head, (ws) => wss.emit("connection", ws, req));
});

const { host, port } = parseAddr(process.argv.slice(2));
server.listen({ host, port, backlog: 4096 }, () => {
  let native = "no";
  try {
    require("bufferutil");
    native = "yes";
  } catch {}
  console.error(`node-ws baseline serving on ${host}:${port} (node ${process.version}, ws ${require("ws/package.json").version}, bufferutil ${native})`);
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    for (const wss of [echo, fanout]) for (const c of wss.clients) c.terminate();
    server.close(() => process.exit(0));
    setTimeout(() => process.exit(0), 1000).unref();
  });
}
