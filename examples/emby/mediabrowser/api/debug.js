// GET /Debug/Timers: how many per-connection timers are running (not part of Emby).
// Every one belongs to an open connection: a client that identifies itself loses
// its Identity deadline, SessionsStop or a disconnect ends its Sessions feed.
// Descriptor: Debug.Timers.http.

import { websockets } from "sdk/net";
import { activeTimers } from "../lib/timers";

export function onRequest() {
  return { ...activeTimers(), Connections: websockets.count() };
}
