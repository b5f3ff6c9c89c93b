// Pushing server events to web socket clients. Only identified clients receive
// them ("once connected and identified, you'll be able to receive..."): they are
// the members of the IDENTIFIED room.

import { websockets } from "sdk/net";
import { envelope } from "./envelope";
import { IDENTIFIED, findSession } from "./sessions";

/** Sends {MessageType: type, Data: data} to every identified client; returns how many. */
export function pushToAll(type, data) {
  return websockets.publish(IDENTIFIED, envelope(type, data));
}

/** Sends {MessageType: type, Data: data} to one session (a remote control command);
 * false if no identified client has that session id. */
export function pushToSession(id, type, data) {
  const conn = findSession(id);
  return conn !== null && conn.send(envelope(type, data));
}
