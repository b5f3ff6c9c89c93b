// Trackers and their state.
//
// The trackers are in trackers.json beside this file: id, label, source_id, the
// last known location, and "blocked" for a tracker whose state must not be
// delivered. Which user owns which tracker is in users.json.
//
// Every state a tracker reports is kept in the store (collection "states"), so the
// current state of a tracker is its latest document there, or the state built from
// trackers.json while it has reported nothing.
//
// The connections subscribed to a tracker's state are the members of its room,
// "state:<tracker id>": a new state is published to that room. Rooms are held by
// the server, so subscriptions survive a reload of the project.
import { store } from "sdk/db";
import { websockets } from "sdk/net";
import { userTime } from "./api";
import { serial } from "./serial";
import config from "./trackers.json";

// trackers maps each tracker's id to the tracker.
const trackers = new Map();
if (!config || !Array.isArray(config.trackers)) {
  throw new Error('trackers.json: want {"trackers": [{"id": 1, "label": "...", "source_id": 1, "location": {"lat": 0, "lng": 0}}]}');
}
config.trackers.forEach((t, i) => {
  if (!t || !Number.isInteger(t.id) || trackers.has(t.id)) {
    throw new Error(`trackers.json: trackers[${i}].id must be an integer of its own`);
  }
  if (!Number.isInteger(t.source_id)) {
    throw new Error(`trackers.json: trackers[${i}].source_id must be an integer`);
  }
  if (!t.location || typeof t.location.lat !== "number" || typeof t.location.lng !== "number") {
    throw new Error(`trackers.json: trackers[${i}].location must be {"lat": number, "lng": number}`);
  }
  trackers.set(t.id, t);
});

// trackerOf returns user's tracker with this id, or undefined if user owns none.
export function trackerOf(user, id) {
  return user.trackers.includes(id) ? trackers.get(id) : undefined;
}

// trackersOf returns every tracker user owns.
export function trackersOf(user) {
  return user.trackers.map((id) => trackers.get(id)).filter((t) => t !== undefined);
}

// stateRoom is the room of the connections subscribed to a tracker's state.
export function stateRoom(trackerId) {
  return "state:" + trackerId;
}

// initialState is a tracker's state before it has reported anything: the "source
// state" of the Navixy API (a subset of its fields), at the configured location.
function initialState(tracker) {
  return {
    source_id: tracker.source_id,
    gps: {
      updated: null,
      signal_level: null,
      location: { lat: tracker.location.lat, lng: tracker.location.lng },
      heading: 0,
      speed: 0,
      alt: 0,
    },
    connection_status: "offline",
    movement_status: "parked",
    ignition: false,
    last_update: null,
  };
}

// currentState returns the tracker's latest state.
export async function currentState(tracker) {
  const latest = await store.list("states", {
    filters: [{ field: "tracker_id", operator: "=", value: tracker.id }],
    sortField: "created",
    sortOrder: "desc",
    limit: 1,
  });
  return latest.length > 0 ? latest[0].state : initialState(tracker);
}

// stateEvent is the frame that carries a state to the subscribers.
export function stateEvent(state) {
  return { type: "event", event: "state", user_time: userTime(), data: state };
}

// applyReport returns a new state: the previous one with what the tracker reported
// (any of lat, lng, speed, heading, alt, movement_status, ignition).
function applyReport(previous, report) {
  const state = JSON.parse(JSON.stringify(previous)); // a copy to change
  const now = userTime();
  const gps = state.gps;
  for (const field of ["speed", "heading", "alt"]) {
    if (report[field] !== undefined) {
      gps[field] = report[field];
    }
  }
  if (report.lat !== undefined) gps.location.lat = report.lat;
  if (report.lng !== undefined) gps.location.lng = report.lng;
  gps.updated = now;
  gps.signal_level = 100;
  if (report.movement_status !== undefined) state.movement_status = report.movement_status;
  if (report.ignition !== undefined) state.ignition = report.ignition;
  state.connection_status = "active";
  state.last_update = now;
  return state;
}

// recordState stores what a tracker reported and sends the new state to every
// connection subscribed to it. Reports of one tracker are recorded one at a time,
// so none is lost and subscribers get them in order. It resolves with the new
// state and how many connections it was sent to.
export function recordState(tracker, report) {
  return serial(stateRoom(tracker.id), async () => {
    const state = applyReport(await currentState(tracker), report);
    await store.save("states", { tracker_id: tracker.id, state });
    const delivered = websockets.publish(stateRoom(tracker.id), stateEvent(state));
    return { state, delivered };
  });
}
