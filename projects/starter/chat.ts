// A small chat in TypeScript. Connect with ?name=ada to choose a name.
import { websockets, type Connection } from "sdk/net";
import { format } from "./format";

export function onOpen(conn: Connection) {
  conn.data.name = conn.query.name || "guest-" + conn.id.slice(0, 4);
  websockets.broadcast("chat", { type: "joined", name: conn.data.name, online: websockets.count("chat") });
}

export function onMessage(message: string | ArrayBuffer, conn: Connection) {
  if (typeof message !== "string") {
    return { type: "error", error: "chat takes text messages" };
  }
  websockets.broadcast("chat", format(conn.data.name, message));
}

export function onClose(conn: Connection, code: number, reason: string) {
  websockets.broadcast("chat", { type: "left", name: conn.data.name, online: websockets.count("chat") });
}
