// Records every event of a connection in conn.data and reports it to the "watch"
// endpoint, so that a test sees the order of events from a second connection.
import { websockets } from "sdk/net";

function tell(conn, what) {
  conn.data.seen.push(what.split(" ")[0]);
  websockets.broadcast("watch", what);
}

export function onOpen(conn) {
  conn.data.seen = [];
  tell(conn, "open");
}

export function onMessage(message, conn) {
  if (message === "fail") {
    throw new Error("asked to fail");
  }
  if (message === "close") {
    conn.close(4100, "closed by the handler");
    return;
  }
  tell(conn, "message " + message);
}

export function onError(error, conn) {
  tell(conn, "error " + error);
}

export function onClose(conn, code, reason) {
  tell(conn, "close " + code + " " + reason);
  websockets.broadcast("watch", "history " + conn.data.seen.join(","));
}
