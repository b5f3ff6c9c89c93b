// The echo endpoint: every message comes back as it came. It stands in for
// ws://echo.websocket.org:80/, which the client example of Dirigible's
// documentation connects to, so that the example runs offline.
import { websockets } from "sdk/net";

export function onOpen(conn) {
  console.log(`echo connection ${conn.id}: ${websockets.getMethod()}`);
}

export function onMessage(message, conn) {
  console.log(`echo connection ${conn.id}: ${websockets.getMethod()} ${websockets.getMessage()}`);
  return message; // what onMessage returns is sent back
}

export function onClose(conn, code) {
  console.log(`echo connection ${conn.id}: ${websockets.getMethod()} ${code}`);
}
