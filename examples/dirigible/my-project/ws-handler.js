// my-project/ws-handler: the handler of the my-endpoint endpoint AND of the
// outbound client that client.js creates, as in Dirigible's documentation, where
// one handler serves both. Every event gets its connection as the argument: for
// my-endpoint a server connection (it has `endpoint`), for the client the
// WebsocketClient (it has `uri`). Dirigible's context functions (getMethod,
// getMessage, getError, isOnOpen, ...) answer for the event being handled, for
// either kind.
import { websockets } from "sdk/net";
import { initialize, close } from "./client";

// Which my-endpoint connection asked for each client (client id -> connection
// id), to tell it what its client does. Module state: the client's events run in
// the same worker as the request that created it.
const requesters = new Map();

function describe(conn) {
  return conn.uri ? `client ${conn.id} (${conn.uri})` : `${conn.endpoint} connection ${conn.id}`;
}

// logEvent logs the current event the Dirigible way, with the context functions.
function logEvent(conn) {
  let what = websockets.getMethod();
  if (websockets.isOnMessage()) {
    what += " " + websockets.getMessage();
  } else if (websockets.isOnError()) {
    what += " " + websockets.getError();
  }
  if (websockets.isOnError()) {
    console.error(`${describe(conn)}: ${what}`);
  } else {
    console.log(`${describe(conn)}: ${what}`);
  }
}

// tell sends text to the my-endpoint connection that created client.
function tell(client, text) {
  const requester = requesters.get(client.id);
  if (requester) {
    websockets.send(requester, `client ${client.id} ${text}`);
  }
}

const clients = () => JSON.stringify(websockets.getClients());

export function onOpen(conn) {
  logEvent(conn);
  if (conn.uri) {
    tell(conn, `onopen: getClients() = ${clients()}`);
  } else {
    conn.send('welcome: send "connect" to run the client example; anything else comes back');
  }
}

export function onMessage(message, conn) {
  logEvent(conn);
  if (conn.uri) {
    // The echo of "hello" from the echo endpoint. Returning a value here would
    // send it back to the echo endpoint (and loop), so this returns nothing.
    tell(conn, `onmessage: ${message}`);
    close(); // websockets.getClientByHandler(handler).close()
    return;
  }
  if (message === "connect") {
    // The port is this server's own: take it from the Host header of the request.
    const client = initialize(`ws://${conn.headers.host}/websockets/v4/service/echo`);
    requesters.set(client.id, conn.id);
    return `client ${client.id} created: getClients() = ${clients()}`;
  }
  if (message === "clients") {
    return clients();
  }
  return "my-endpoint got: " + message;
}

export function onError(error, conn) {
  logEvent(conn);
  if (conn.uri) {
    tell(conn, `onerror: ${error}`);
  }
}

export function onClose(conn, code, reason) {
  logEvent(conn);
  if (conn.uri) {
    tell(conn, `onclose ${code}: getClients() = ${clients()}`);
    requesters.delete(conn.id);
  }
}
