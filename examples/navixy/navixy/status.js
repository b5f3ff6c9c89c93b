// GET /api/subscription/status: how many sockets are open and how many heartbeat
// timers run (one per open socket; a timer left behind by a closed socket would
// show here).
import { websockets } from "sdk/net";
import { heartbeatCount } from "./atmosphere";
import { ENDPOINT } from "./subscription";

export function onRequest() {
  return { success: true, connections: websockets.count(ENDPOINT), heartbeats: heartbeatCount() };
}
