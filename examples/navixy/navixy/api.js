// The common format of the Navixy API, shared by the HTTP calls and the socket.
//
// HTTP calls answer {"success": true, ...}, or on an error
//   {"success": false, "status": {"code": 7, "description": "Invalid parameters"},
//    "errors": [{"parameter": "login", "error": "required"}]}
// ("errors" only for invalid parameters), with HTTP status 400 unless noted below.
//
// Every frame the socket sends (except the heartbeat "X") is a JSON object with a
// "type" ("event", "response" or "error") and a "data" payload. The data of an
// error is the status object of the common format, {code, description}, plus
// "errors" for invalid parameters.
import { URLSearchParams } from "url";

// The error codes of the Navixy API this example answers with.
export const WRONG_HASH = { code: 3, description: "Wrong hash" };
export const SESSION_ENDED = { code: 4, description: "User not found or session ended" };
export const WRONG_FORMAT = { code: 5, description: "Wrong request format" };
export const UNEXPECTED = { code: 6, description: "Unexpected error", http: 500 };
export const INVALID_PARAMETERS = { code: 7, description: "Invalid parameters" };
export const WRONG_LOGIN = { code: 102, description: "Wrong login or password" };
export const NOT_FOUND = { code: 201, description: "Not found in database" };
export const DEVICE_BLOCKED = { code: 208, description: "Device blocked", http: 403 };

// ApiError is an error the client gets told about: one of the statuses above, and
// for INVALID_PARAMETERS the list of {parameter, error}.
export class ApiError extends Error {
  constructor(status, errors) {
    super(status.description);
    this.status = status;
    this.errors = errors;
  }
}

// invalid throws INVALID_PARAMETERS if any parameter errors were collected.
export function invalid(errors) {
  if (errors.length > 0) {
    throw new ApiError(INVALID_PARAMETERS, errors);
  }
}

// statusOf returns the status object of any error; one that is not an ApiError is
// a bug here, logged with its stack, and the client only hears "Unexpected error".
function statusOf(err) {
  if (err instanceof ApiError) {
    const status = { code: err.status.code, description: err.status.description };
    if (err.errors) {
      status.errors = err.errors;
    }
    return status;
  }
  console.error("unexpected error:", err && err.stack ? err.stack : String(err));
  return { code: UNEXPECTED.code, description: UNEXPECTED.description };
}

// httpError turns an error into the full HTTP response of the common format.
export function httpError(err) {
  const { errors, ...status } = statusOf(err);
  const body = { success: false, status };
  if (errors) {
    body.errors = errors;
  }
  const known = err instanceof ApiError ? err.status : UNEXPECTED;
  return { status: known.http || 400, body };
}

// errorMessage is the socket's error frame for an action ("subscription/subscribe",
// or undefined when the frame named no action).
export function errorMessage(action, err) {
  const message = { type: "error" };
  if (action !== undefined) {
    message.action = action;
  }
  message.data = statusOf(err);
  return message;
}

// readParams returns the parameters of an HTTP call, which the Navixy API takes
// in the query string, a form body or a JSON body; the body wins over the query.
export function readParams(req) {
  const params = { ...req.query };
  const type = (req.headers["content-type"] || "").toLowerCase();
  if (req.json !== undefined) {
    if (req.json === null || typeof req.json !== "object" || Array.isArray(req.json)) {
      throw new ApiError(WRONG_FORMAT);
    }
    Object.assign(params, req.json);
  } else if (type.startsWith("application/x-www-form-urlencoded")) {
    for (const [name, value] of new URLSearchParams(req.body)) {
      params[name] = value;
    }
  }
  return params;
}

// userTime formats a time the way the Navixy API does, "2020-08-21 12:51:55" (UTC
// here: the example's users have no time zone).
export function userTime(date = new Date()) {
  return date.toISOString().slice(0, 19).replace("T", " ");
}
