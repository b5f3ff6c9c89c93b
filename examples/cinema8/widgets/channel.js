// The Cinema8 widget channel: every widget instance (client_id) is a room. What a
// connection publishes goes to the other connections of its widget at once, and
// into the store when the connection is persistent; search queries the widget's
// stored data with Cinema8's query object. The wire protocol is in ../README.md.
import { websockets } from "sdk/net";
import { store } from "sdk/db";
import { authenticate, Refusal } from "./auth";

// collection holds every widget's published data, as Cinema8's data model:
// {id, created, client_id, username, data}. Searches are always scoped to one
// client_id by a filter added here.
const collection = "widget_data";

// A client_id is 1-128 characters of letters, digits and . _ : -
const clientIDPattern = /^[A-Za-z0-9._:-]{1,128}$/;

// A requestId is a string of at most 128 characters or a number.
const maxRequestID = 128;

// room is the room of a widget's connections.
function room(clientId) {
  return "widget:" + clientId;
}

// session reads a connection's query and credentials, or throws a Refusal.
function session(conn) {
  const clientId = conn.query.client_id;
  if (clientId === undefined || clientId === "") {
    throw new Refusal("client_id_required",
      "client_id is required: connect to ...?client_id=<widget instance id>", "client_id required");
  }
  if (!clientIDPattern.test(clientId)) {
    throw new Refusal("bad_client_id",
      "client_id must be 1-128 characters of letters, digits and . _ : -", "invalid client_id");
  }
  let persistent;
  switch (conn.query.persistent) {
    case undefined: case "": case "false": case "0": persistent = false; break;
    case "true": case "1": persistent = true; break;
    default:
      throw new Refusal("bad_persistent", "persistent must be true or false (or 1 or 0)", "invalid persistent");
  }
  return { clientId, persistent, username: authenticate(conn) };
}

// announce tells every connection of a widget how many connections it has now.
function announce(clientId) {
  const r = room(clientId);
  websockets.publish(r, { type: "activeConnectionsChange", data: websockets.members(r).length });
}

export function onOpen(conn) {
  let s;
  try {
    s = session(conn);
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    conn.send({ type: "error", code: e.code, error: e.message });
    conn.close(1008, e.reason);
    return;
  }
  Object.assign(conn.data, s); // conn.data survives reloads; module variables do not
  if (!conn.join(room(s.clientId))) {
    return; // already gone; its onClose announces
  }
  conn.send({
    type: "welcome",
    data: { connectionId: conn.id, client_id: s.clientId, persistent: s.persistent, username: s.username },
  });
  announce(s.clientId);
}

export function onClose(conn) {
  // The connection has left its room by now, so the count no longer includes it.
  if (conn.data.clientId !== undefined) {
    announce(conn.data.clientId);
  }
}

// queues holds, per connection id, the frames waiting to be handled: a connection's
// frames are handled, delivered and answered in the order they were sent, even when
// a save or a search takes a while. maxQueued bounds how many may wait.
const queues = new Map();
const maxQueued = 64;

export function onMessage(message, conn) {
  if (conn.data.clientId === undefined) {
    return undefined; // refused at open, closing
  }
  const frame = parse(message);
  if (frame.type === "error") {
    return frame;
  }
  let q = queues.get(conn.id);
  if (q === undefined) {
    q = { tail: Promise.resolve(), size: 0 };
    queues.set(conn.id, q);
  }
  if (q.size >= maxQueued) {
    return errorFrame(frame.requestId, "busy", `${maxQueued} frames are already waiting: wait for answers before sending more`);
  }
  q.size++;
  const answer = q.tail.then(() => handlers[frame.type](frame, conn));
  q.tail = answer.catch(() => {}).then(() => {
    if (--q.size === 0 && queues.get(conn.id) === q) {
      queues.delete(conn.id);
    }
  });
  return answer; // blimp sends what it resolves with (nothing for undefined)
}

// parse returns a message as a frame of one of the handlers' types, or as the error
// frame that answers it.
function parse(message) {
  if (typeof message !== "string") {
    return errorFrame(undefined, "bad_frame", "binary frames are not accepted: send JSON text frames");
  }
  let frame;
  try {
    frame = JSON.parse(message);
  } catch (e) {
    return errorFrame(undefined, "bad_frame", "a frame must be a JSON object with a type: " + e.message);
  }
  if (frame === null || typeof frame !== "object" || Array.isArray(frame)) {
    return errorFrame(undefined, "bad_frame", "a frame must be a JSON object with a type");
  }
  if (frame.requestId !== undefined && !validRequestID(frame.requestId)) {
    return errorFrame(undefined, "bad_frame", `requestId must be a string of at most ${maxRequestID} characters or a number`);
  }
  if (typeof frame.type !== "string" || !Object.prototype.hasOwnProperty.call(handlers, frame.type)) {
    return errorFrame(frame.requestId, "unknown_type",
      `unknown frame type ${JSON.stringify(frame.type)}: send "publish", "search" or "ping"`);
  }
  return frame;
}

function validRequestID(v) {
  return (typeof v === "string" && v.length <= maxRequestID) || (typeof v === "number" && isFinite(v));
}

// publish delivers frame.data to the widget's other connections as Cinema8's data
// model, after storing it when the connection is persistent. Only data comes from
// the client: client_id and username come from the connection.
async function publish(frame, conn) {
  const { clientId, persistent, username } = conn.data;
  if (frame.data === undefined) {
    return errorFrame(frame.requestId, "bad_publish", "publish needs data: {type: \"publish\", data: {...}}");
  }
  const model = { client_id: clientId, username: username, data: frame.data };
  let id = null;
  let created;
  if (persistent) {
    try {
      id = await store.save(collection, model);
    } catch (e) {
      return errorFrame(frame.requestId, "store_error", "not saved: " + e.message);
    }
    // An id's first 12 hex digits are its created time in ms (store/doc.go).
    created = parseInt(id.slice(0, 12), 16);
  } else {
    created = Date.now();
  }
  const delivered = websockets.publish(room(clientId),
    { type: "message", data: persistent ? { id, created, ...model } : { created, ...model } },
    { except: conn });
  if (frame.requestId === undefined) {
    return undefined;
  }
  return { type: "published", requestId: frame.requestId, data: { id, created, persistent, delivered } };
}

// search lists the widget's stored data with the client's query object, scoped
// to the connection's client_id by an added filter.
async function search(frame, conn) {
  let query = frame.query;
  if (query === undefined || query === null) {
    query = {};
  }
  if (typeof query !== "object" || Array.isArray(query)) {
    return errorFrame(frame.requestId, "bad_query", "query must be an object like {sortField, sortOrder, offset, limit, filters, groupBy}");
  }
  const filters = query.filters === undefined || query.filters === null ? [] : query.filters;
  if (!Array.isArray(filters)) {
    return errorFrame(frame.requestId, "bad_query", "query.filters must be an array of {field, operator, value}");
  }
  const scoped = { ...query, filters: [...filters, { field: "client_id", operator: "=", value: conn.data.clientId }] };
  let listed;
  try {
    listed = store.list(collection, scoped); // a malformed query throws here
  } catch (e) {
    return errorFrame(frame.requestId, "bad_query", String(e.message).replace(/^store\.list: /, ""));
  }
  try {
    return { type: "searchResult", requestId: frame.requestId, data: await listed };
  } catch (e) {
    return errorFrame(frame.requestId, "store_error", "search failed: " + e.message);
  }
}

// ping answers pong once every frame the connection sent before it is answered.
function ping(frame) {
  return { type: "pong", requestId: frame.requestId };
}

// handlers answer the frames of each type; what they return (or resolve with) goes
// back to the sender.
const handlers = { publish, search, ping };

function errorFrame(requestId, code, error) {
  return { type: "error", requestId, code, error };
}
