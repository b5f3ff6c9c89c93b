// The Dirigible context functions, as seen inside each of the four events.
import { websockets } from "sdk/net";

function snapshot() {
  const show = (v) => (v === undefined ? "undefined" : v);
  return {
    method: show(websockets.getMethod()),
    message: show(websockets.getMessage()),
    error: show(websockets.getError()),
    isOnOpen: websockets.isOnOpen(),
    isOnMessage: websockets.isOnMessage(),
    isOnError: websockets.isOnError(),
    isOnClose: websockets.isOnClose(),
  };
}

export function onOpen(conn) {
  conn.send(snapshot());
}

export function onMessage(message, conn) {
  if (message === "throw") {
    throw new Error("boom");
  }
  if (message === "await") {
    return later();
  }
  return snapshot();
}

// After an await, the context is still the event's.
async function later() {
  await new Promise((resolve) => setTimeout(resolve, 5));
  return snapshot();
}

export function onError(error, conn) {
  conn.send(snapshot());
}

export function onClose(conn) {
  websockets.broadcast("watch", snapshot());
}
