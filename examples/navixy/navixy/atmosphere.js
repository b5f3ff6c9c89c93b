// The Atmosphere protocol around the socket (Navixy uses the Atmosphere Framework
// as its application layer): the parameters atmosphere-javascript sends when it
// opens the socket, the negotiation message that is the first frame, and the
// heartbeat frames "X".
//
// atmosphere.subscribe({url: ".../event/subscription", contentType: "application/json",
// transport: "websocket"}) opens
//   /event/subscription?X-Atmosphere-tracking-id=0&X-Atmosphere-Framework=2.3.6-javascript
//     &X-Atmosphere-Transport=websocket&Content-Type=application/json&X-atmo-protocol=true
// and the server answers with the first frame
//   b623a15d-9623-4fd8-a9d3-697036635c29|30000|X|
// that is <tracking id>|<heartbeat interval in ms>|<heartbeat text>| .
// Atmosphere's Java clients send the same parameters as headers, so headers are
// read too.

// HEARTBEAT is the text of a heartbeat frame, both ways.
export const HEARTBEAT = "X";

// The heartbeat interval, announced in the negotiation message. A client may ask
// for another one with the `heartbeat` parameter (milliseconds; an extension of
// this example, not part of Atmosphere), within these bounds.
export const DEFAULT_HEARTBEAT_MS = 30000;
const MIN_HEARTBEAT_MS = 50;
const MAX_HEARTBEAT_MS = 300000;

// The oldest atmosphere-javascript that speaks the negotiation (Atmosphere's server
// refuses older ones the same way).
const MIN_FRAMEWORK = [2, 2, 1];

const uuidPattern = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

// param returns an Atmosphere parameter from the query, or else from the headers.
function param(conn, name) {
  const value = conn.query[name];
  return value !== undefined ? value : conn.headers[name.toLowerCase()];
}

// frameworkVersion turns "2.3.6-javascript" into [2, 3, 6], or null.
function frameworkVersion(framework) {
  const m = /^(\d+)\.(\d+)\.(\d+)/.exec(framework || "");
  return m ? [Number(m[1]), Number(m[2]), Number(m[3])] : null;
}

function olderThan(version, min) {
  for (let i = 0; i < min.length; i++) {
    if (version[i] !== min[i]) {
      return version[i] < min[i];
    }
  }
  return false;
}

// readRequest checks the Atmosphere parameters of conn's opening request. It
// returns {errors} (a list of {parameter, error}, empty when all is well),
// trackingId ("0" for a new client, else the id it was given before), handshake
// (whether the client asked for the negotiation message) and heartbeatMs.
export function readRequest(conn) {
  const errors = [];
  const transport = param(conn, "X-Atmosphere-Transport");
  if (transport !== "websocket") {
    errors.push({ parameter: "X-Atmosphere-Transport", error: transport === undefined ? "required: websocket" : "only websocket is served here" });
  }
  const trackingId = param(conn, "X-Atmosphere-tracking-id");
  if (trackingId !== "0" && !uuidPattern.test(trackingId || "")) {
    errors.push({ parameter: "X-Atmosphere-tracking-id", error: "required: 0 for a new client, or the tracking id the server gave it" });
  }
  const contentType = param(conn, "Content-Type");
  if (contentType !== undefined && !contentType.toLowerCase().startsWith("application/json")) {
    errors.push({ parameter: "Content-Type", error: "frames are JSON: use application/json" });
  }
  // The negotiation message goes to new clients that ask for it, as in Atmosphere.
  const handshake = trackingId === "0" && param(conn, "X-atmo-protocol") === "true";
  if (handshake) {
    const version = frameworkVersion(param(conn, "X-Atmosphere-Framework"));
    if (version === null || olderThan(version, MIN_FRAMEWORK)) {
      errors.push({ parameter: "X-Atmosphere-Framework", error: "Atmosphere protocol version not supported: use atmosphere-javascript 2.2.1 or later" });
    }
  }
  let heartbeatMs = DEFAULT_HEARTBEAT_MS;
  const asked = param(conn, "heartbeat");
  if (asked !== undefined) {
    heartbeatMs = Number(asked);
    if (!/^\d+$/.test(asked) || heartbeatMs < MIN_HEARTBEAT_MS || heartbeatMs > MAX_HEARTBEAT_MS) {
      errors.push({ parameter: "heartbeat", error: `milliseconds from ${MIN_HEARTBEAT_MS} to ${MAX_HEARTBEAT_MS}` });
    }
  }
  return { errors, trackingId, handshake, heartbeatMs };
}

// newTrackingId returns a random (version 4) UUID.
export function newTrackingId() {
  const hex = (n) => {
    let s = "";
    for (let i = 0; i < n; i++) s += Math.floor(Math.random() * 16).toString(16);
    return s;
  };
  const variant = (8 + Math.floor(Math.random() * 4)).toString(16);
  return `${hex(8)}-${hex(4)}-4${hex(3)}-${variant}${hex(3)}-${hex(12)}`;
}

// negotiation is the first frame: "<tracking id>|<heartbeat ms>|X|".
export function negotiation(trackingId, heartbeatMs) {
  return `${trackingId}|${heartbeatMs}|${HEARTBEAT}|`;
}

// Heartbeat timers, by connection id. Timers belong to the code that set them:
// when the project reloads, the old code's timers stop, so the new code starts
// them again for the connections already open (see subscription.js).
const heartbeats = new Map();

// startHeartbeat sends "X" to conn every ms milliseconds, unless it already does.
export function startHeartbeat(conn, ms) {
  if (heartbeats.has(conn.id)) {
    return;
  }
  const id = conn.id;
  const timer = setInterval(() => {
    if (!conn.send(HEARTBEAT)) {
      stopHeartbeat(id); // closed without onClose having run: never leak the timer
    }
  }, ms);
  heartbeats.set(id, timer);
}

// stopHeartbeat clears the heartbeat timer of the connection with this id.
export function stopHeartbeat(id) {
  clearInterval(heartbeats.get(id));
  heartbeats.delete(id);
}

// heartbeatCount returns how many heartbeat timers are running.
export function heartbeatCount() {
  return heartbeats.size;
}
