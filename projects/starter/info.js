// An HTTP handler beside the WebSocket endpoints: GET /api/starter/info.
import { websockets } from "sdk/net";

export function onRequest(req) {
  // req: {method, path, query, headers (lower-case names), body (text), json, remoteAddress, secure}
  return { chat: websockets.count("chat"), echo: websockets.count("echo") };
}
