// The frame format both namespaces (layout.js, lobby.js) share.
//
// Every frame, in both directions, is a JSON array of two elements,
// [EVENT_TYPE, EVENT]: the event type ("JOIN", "NOTIFY", ...) and its data. That is
// what a socket.io client puts on the wire for socket.emit(type, data), minus
// socket.io's packet prefix.
//
// A frame the server cannot accept is answered with an error event to its sender,
// and the connection stays open:
//   ["ERROR", {"event": "NOTIFY", "message": "\"room\" is missing"}]
// ("event" is null when the frame was not even [EVENT_TYPE, EVENT]).

// ProtocolError is a problem with what the client sent. Handlers throw it; dispatch
// turns it into an ERROR event. Any other error is a bug in a handler: blimp logs it
// with its stack.
export class ProtocolError extends Error {}

// dispatch decodes one received message and runs the function the `events` Map
// holds for its event type, as fn(data, conn). What that function returns (or the
// ERROR event) is what onMessage returns, so blimp sends it back to the sender.
export function dispatch(message, conn, events) {
  let type = null; // the event type, once the frame is decoded
  try {
    const frame = decode(message);
    type = frame.type;
    const handle = events.get(type);
    if (handle === undefined) {
      const known = [...events.keys()].join(", ");
      throw new ProtocolError(`unknown event ${JSON.stringify(type)}; this namespace accepts ${known}`);
    }
    return handle(frame.data, conn);
  } catch (err) {
    return refusal(type, err);
  }
}

// refusal returns the ERROR event for a ProtocolError thrown while handling event
// (an event type, or null). Any other error is thrown on, for blimp to log.
export function refusal(event, err) {
  if (err instanceof ProtocolError) {
    return errorEvent(event, err.message);
  }
  throw err;
}

// errorEvent builds the error event sent back for a refused frame.
export function errorEvent(event, message) {
  return ["ERROR", { event, message }];
}

// decode turns a received WebSocket message into {type, data}.
function decode(message) {
  if (typeof message !== "string") {
    throw new ProtocolError("frames are JSON text; got a binary frame");
  }
  let frame;
  try {
    frame = JSON.parse(message);
  } catch (err) {
    throw new ProtocolError(`a frame is JSON like ["JOIN", {"room": "r1", "name": "tv"}]; this is not JSON (${err.message})`);
  }
  if (!Array.isArray(frame) || frame.length !== 2 || typeof frame[0] !== "string") {
    throw new ProtocolError(`a frame is a JSON array of two elements, [EVENT_TYPE, EVENT], like ["JOIN", {"room": "r1", "name": "tv"}]`);
  }
  return { type: frame[0], data: frame[1] };
}

// eventObject returns the data of an event that carries an object. The document
// says EVENT is "the data in JSON string format", and the original service's
// clients send JSON.stringify({...}); so a string holding a JSON object is accepted
// as well as the object itself.
export function eventObject(data) {
  if (typeof data === "string") {
    try {
      data = JSON.parse(data);
    } catch (err) {
      throw new ProtocolError("the event data must be an object, or a string holding one in JSON; this string is not JSON");
    }
  }
  if (data === null || typeof data !== "object" || Array.isArray(data)) {
    throw new ProtocolError(`the event data must be an object, got ${JSON.stringify(data)}`);
  }
  return data;
}

// requiredString returns the field of obj that must be a non-empty string.
export function requiredString(obj, field) {
  const value = obj[field];
  if (value === undefined) {
    throw new ProtocolError(`"${field}" is missing`);
  }
  if (typeof value !== "string" || value === "") {
    throw new ProtocolError(`"${field}" must be a non-empty string, got ${JSON.stringify(value)}`);
  }
  return value;
}

// requiredValue returns the field of obj that must be present (any JSON value).
export function requiredValue(obj, field) {
  if (obj[field] === undefined) {
    throw new ProtocolError(`"${field}" is missing`);
  }
  return obj[field];
}

// blimp room names are at most this many bytes (UTF-8).
const MAX_ROOM_BYTES = 256;
const utf8 = new TextEncoder();

// roomName builds the blimp room name for ids of this service: the JSON of
// [kind, ...ids], e.g. ["layout","r1"]. JSON keeps every id unambiguous whatever
// characters it holds, and the kind keeps the two namespaces' rooms apart (rooms
// belong to the project, which serves both endpoints). Ids too long to fit are
// refused here, naming them as `what` (e.g. '"room"').
export function roomName(what, kind, ...ids) {
  const name = JSON.stringify([kind, ...ids]);
  if (utf8.encode(name).length > MAX_ROOM_BYTES) {
    const spare = MAX_ROOM_BYTES - utf8.encode(JSON.stringify([kind, ...ids.map(() => "")])).length;
    throw new ProtocolError(`${what} too long: at most ${spare} bytes (UTF-8, JSON-escaped)`);
  }
  return name;
}
