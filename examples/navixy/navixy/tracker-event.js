// POST /api/tracker/event: a tracker reports (this stands in for the trackers'
// own protocols, which feed a real Navixy server). Its new state is stored and sent
// as a state event to every connection subscribed to it.
//
// Parameters (query string, form or JSON body): hash, tracker_id, and any of
// lat, lng, speed, heading, alt (numbers), movement_status ("moving", "stopped"
// or "parked") and ignition (true or false). The answer is
//   {"success": true, "state": {...the new state...}, "delivered": 1}
// with "delivered" the number of connections the event went to.
import { ApiError, DEVICE_BLOCKED, NOT_FOUND, httpError, invalid, readParams } from "./api";
import { userOfHash } from "./sessions";
import { recordState, trackerOf } from "./trackers";

const MOVEMENT = ["moving", "stopped", "parked"];

// number reads a number parameter (a JSON number, or text from a query or form)
// between min and max, or undefined when it is not there.
function number(params, name, min, max, errors) {
  const value = params[name];
  if (value === undefined) {
    return undefined;
  }
  const n = typeof value === "string" && value.trim() !== "" ? Number(value) : value;
  if (typeof n !== "number" || !Number.isFinite(n) || n < min || n > max) {
    errors.push({ parameter: name, error: `a number from ${min} to ${max}` });
    return undefined;
  }
  return n;
}

// readReport checks the parameters of a report.
function readReport(params) {
  const errors = [];
  const trackerId = number(params, "tracker_id", 1, Number.MAX_SAFE_INTEGER, errors);
  if (params.tracker_id === undefined) {
    errors.push({ parameter: "tracker_id", error: "required" });
  } else if (trackerId !== undefined && !Number.isInteger(trackerId)) {
    errors.push({ parameter: "tracker_id", error: "must be a tracker id" });
  }
  const report = {
    lat: number(params, "lat", -90, 90, errors),
    lng: number(params, "lng", -180, 180, errors),
    speed: number(params, "speed", 0, 1000, errors),
    heading: number(params, "heading", 0, 360, errors),
    alt: number(params, "alt", -1000, 100000, errors),
  };
  if (params.movement_status !== undefined && !MOVEMENT.includes(params.movement_status)) {
    errors.push({ parameter: "movement_status", error: `one of ${MOVEMENT.join(", ")}` });
  } else {
    report.movement_status = params.movement_status;
  }
  const ignition = params.ignition;
  if (ignition === true || ignition === "true") report.ignition = true;
  else if (ignition === false || ignition === "false") report.ignition = false;
  else if (ignition !== undefined) errors.push({ parameter: "ignition", error: "true or false" });
  invalid(errors);
  return { trackerId, report };
}

export async function onRequest(req) {
  try {
    const params = readParams(req);
    const user = await userOfHash(params.hash);
    const { trackerId, report } = readReport(params);
    const tracker = trackerOf(user, trackerId);
    if (tracker === undefined) {
      throw new ApiError(NOT_FOUND); // no such tracker, or not this user's
    }
    if (tracker.blocked) {
      throw new ApiError(DEVICE_BLOCKED);
    }
    const { state, delivered } = await recordState(tracker, report);
    return { success: true, state, delivered };
  } catch (err) {
    return httpError(err);
  }
}
