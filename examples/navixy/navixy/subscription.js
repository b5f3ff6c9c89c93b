// The socket at /event/subscription: Navixy's WebSocket API.
//
// 1. The client opens the socket with the Atmosphere parameters (atmosphere.js);
//    the first frame is the negotiation message "<tracking id>|30000|X|", and from
//    then on the server sends a heartbeat "X" on that interval.
// 2. The client sends actions, JSON objects with an "action" and the session
//    "hash" from user/auth:
//      {"action": "subscribe",   "hash": "...", "events": ["state"], "trackers": [15564, 15565]}
//      {"action": "unsubscribe", "hash": "...", "events": ["state"], "trackers": [15564]}
//    ("trackers" may be left out of unsubscribe: all of them).
// 3. The server answers each action with a "response" or an "error" frame, and
//    sends "event" frames: the current state of each tracker right after
//    subscribing to it, then every new state it reports.
import { websockets } from "sdk/net";
import { ApiError, INVALID_PARAMETERS, WRONG_FORMAT, errorMessage, invalid } from "./api";
import { HEARTBEAT, negotiation, newTrackingId, readRequest, startHeartbeat, stopHeartbeat } from "./atmosphere";
import { serial } from "./serial";
import { userOfHash } from "./sessions";
import { currentState, stateEvent, stateRoom, trackerOf, trackersOf } from "./trackers";

export const ENDPOINT = "navixy-subscription";

// The events a client can subscribe to.
const EVENTS = ["state"];

// After a reload this code is new and the old code's timers have stopped: start
// the heartbeats of the connections that are already open again.
for (const conn of websockets.getConnections(ENDPOINT)) {
  keepHeartbeat(conn);
}

// keepHeartbeat makes sure conn's heartbeat runs (it is worked out again from the
// opening request, so it needs nothing kept from before a reload).
function keepHeartbeat(conn) {
  const request = readRequest(conn);
  if (request.errors.length === 0) {
    startHeartbeat(conn, request.heartbeatMs);
  }
}

export function onOpen(conn) {
  const request = readRequest(conn);
  if (request.errors.length > 0) {
    conn.send(errorMessage(undefined, new ApiError(INVALID_PARAMETERS, request.errors)));
    conn.close(1008, "invalid Atmosphere request");
    return;
  }
  // A new client gets a tracking id; a client reconnecting keeps the one it has.
  conn.data.trackingId = request.trackingId === "0" ? newTrackingId() : request.trackingId;
  if (request.handshake) {
    conn.send(negotiation(conn.data.trackingId, request.heartbeatMs));
  }
  startHeartbeat(conn, request.heartbeatMs);
}

export function onMessage(message, conn) {
  if (conn.data.trackingId === undefined) {
    return; // refused in onOpen and closing
  }
  keepHeartbeat(conn);
  if (message === HEARTBEAT) {
    return; // the client's heartbeat: nothing to answer
  }
  // One action at a time per connection, in the order they came.
  return serial(conn.id, () => handle(message, conn));
}

export function onClose(conn) {
  stopHeartbeat(conn.id);
}

// handle runs one action and sends its response, or its error.
async function handle(message, conn) {
  let action;
  try {
    const request = parse(message);
    action = request.action;
    if (action === "subscribe") {
      await subscribe(request, conn);
    } else if (action === "unsubscribe") {
      await unsubscribe(request, conn);
    } else {
      invalid([{ parameter: "action", error: "must be subscribe or unsubscribe" }]);
    }
  } catch (err) {
    conn.send(errorMessage(actionName(action), err));
  }
}

// actionName is how responses and errors name an action: "subscription/subscribe".
function actionName(action) {
  if (action === "subscribe" || action === "unsubscribe") {
    return "subscription/" + action;
  }
  return typeof action === "string" ? action : undefined;
}

// parse reads a frame as a JSON object; anything else is WRONG_FORMAT.
function parse(message) {
  if (typeof message !== "string") {
    throw new ApiError(WRONG_FORMAT); // a binary frame
  }
  let request;
  try {
    request = JSON.parse(message);
  } catch (e) {
    throw new ApiError(WRONG_FORMAT);
  }
  if (request === null || typeof request !== "object" || Array.isArray(request)) {
    throw new ApiError(WRONG_FORMAT);
  }
  return request;
}

// readEvents checks the "events" of an action: a non-empty list of known events.
function readEvents(events, errors) {
  if (!Array.isArray(events) || events.length === 0) {
    errors.push({ parameter: "events", error: `required: a list of events (${EVENTS.join(", ")})` });
  } else if (!events.every((e) => EVENTS.includes(e))) {
    errors.push({ parameter: "events", error: `unknown event: the events are ${EVENTS.join(", ")}` });
  }
  return events;
}

// readTrackers checks the "trackers" of an action: a non-empty list of tracker ids.
function readTrackers(trackers, errors) {
  if (!Array.isArray(trackers) || trackers.length === 0 || !trackers.every(Number.isInteger)) {
    errors.push({ parameter: "trackers", error: "required: a list of tracker ids" });
  }
  return trackers;
}

// subscribe: the response tells, for each tracker asked for, whether its events
// will come ("normal"), not while it is blocked ("blocked"), or never because the
// user has no such tracker ("unknown"). Then the current state of each "normal"
// tracker follows as a state event.
async function subscribe(request, conn) {
  const user = await userOfHash(request.hash);
  const errors = [];
  const events = readEvents(request.events, errors);
  const ids = readTrackers(request.trackers, errors);
  invalid(errors);

  const statuses = {};
  const subscribed = [];
  for (const id of ids) {
    const tracker = trackerOf(user, id);
    if (tracker === undefined) {
      statuses[id] = "unknown";
    } else if (tracker.blocked) {
      statuses[id] = "blocked";
    } else {
      statuses[id] = "normal";
      conn.join(stateRoom(id));
      subscribed.push(tracker);
    }
  }
  conn.send({ type: "response", action: "subscription/subscribe", events, data: { state: statuses } });

  const states = await Promise.all(subscribed.map(currentState));
  for (const state of states) {
    conn.send(stateEvent(state));
  }
}

// unsubscribe: the response lists the trackers whose events stop.
async function unsubscribe(request, conn) {
  const user = await userOfHash(request.hash);
  const errors = [];
  const events = readEvents(request.events, errors);
  const ids = request.trackers === undefined ? undefined : readTrackers(request.trackers, errors);
  invalid(errors);

  const joined = conn.rooms();
  const stopped = [];
  for (const tracker of trackersOf(user)) {
    const asked = ids === undefined || ids.includes(tracker.id);
    if (asked && joined.includes(stateRoom(tracker.id))) {
      conn.leave(stateRoom(tracker.id));
      stopped.push(tracker.id);
    }
  }
  conn.send({ type: "response", action: "subscription/unsubscribe", events, data: { state: stopped } });
}
