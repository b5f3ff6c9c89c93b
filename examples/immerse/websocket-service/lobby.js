// The ~/lobby namespace of the 2-Immerse websocket service: peers gather in a
// lobby, one lobby at a time. Peers are known by their connection id.
//
//   ["JOIN",  L]    join lobby L. Every member (the joiner too) gets ["JOINED", id];
//                   then the joiner gets ["PEERS", [ids of the other members]].
//   ["LEAVE", L]    leave lobby L; the members left get ["LEFT", id] (also when a
//                   member disconnects).
//   ["BROADCAST", {"message": M}]         every member of the sender's lobby (the
//                   sender too) gets ["MESSAGE", {"from": id, "message": M}].
//   ["RTCSIGNAL", {"to": peerId, ...}]    forwarded to that peer of the sender's
//                   lobby as ["RTCSIGNAL", {...the same fields, "from": id}].
//
// The document specifies JOIN and LEAVE and marks BROADCAST and RTCSIGNAL "TBC";
// what members receive follows the lobby module the document refers to. As with
// that module's clients, connecting to /lobby?lobbyId=L joins L at once.
// Anything refused is answered with ["ERROR", {"event", "message"}] (protocol.js).
//
// Where membership lives: the blimp room ["lobby",L], held by the server (it
// survives hot reloads), and conn.data.lobby = L, which onClose still has once the
// connection has left its rooms.

import { websockets } from "sdk/net";
import { ProtocolError, dispatch, refusal, eventObject, requiredString, requiredValue, roomName } from "./protocol";

const events = new Map([
  ["JOIN", join],
  ["LEAVE", leave],
  ["BROADCAST", broadcast],
  ["RTCSIGNAL", rtcSignal],
]);

// The lobby module's clients name their lobby in the URL: /lobby?lobbyId=L joins L
// as soon as the connection opens (a bad id is answered with ERROR, as for JOIN).
export function onOpen(conn) {
  const lobbyId = conn.query.lobbyId;
  if (lobbyId !== undefined) {
    try {
      enterLobby(conn, lobbyIdOf(lobbyId));
    } catch (err) {
      conn.send(refusal("JOIN", err));
    }
  }
}

export function onMessage(message, conn) {
  return dispatch(message, conn, events);
}

// A member that disconnects leaves its lobby: the others hear LEFT.
export function onClose(conn) {
  if (conn.data.lobby !== undefined) {
    exitLobby(conn);
  }
}

// ["JOIN", L]
function join(data, conn) {
  enterLobby(conn, lobbyIdOf(data));
}

// ["LEAVE", L]
function leave(data, conn) {
  const lobbyId = lobbyIdOf(data);
  if (conn.data.lobby !== lobbyId) {
    throw new ProtocolError(`not in lobby ${JSON.stringify(lobbyId)}`);
  }
  exitLobby(conn);
}

// ["BROADCAST", {"message": M}]
function broadcast(data, conn) {
  const message = requiredValue(eventObject(data), "message");
  const room = lobbyRoom(currentLobby(conn));
  websockets.publish(room, ["MESSAGE", { from: conn.id, message }]);
}

// ["RTCSIGNAL", {"to": peerId, ...}]: a WebRTC offer, answer or candidate for one
// peer. "from" is set by the server, so a peer cannot pretend to be another.
function rtcSignal(data, conn) {
  const signal = eventObject(data);
  const to = requiredString(signal, "to");
  const lobbyId = currentLobby(conn);
  const isPeer = websockets.members(lobbyRoom(lobbyId)).some((m) => m.id === to && m.id !== conn.id);
  if (!isPeer) {
    throw new ProtocolError(`${JSON.stringify(to)} is not another peer of lobby ${JSON.stringify(lobbyId)}`);
  }
  websockets.send(to, ["RTCSIGNAL", { ...signal, from: conn.id }]);
}

// enterLobby puts conn in the lobby, tells every member (conn too) it JOINED, and
// tells conn who else is there (PEERS).
function enterLobby(conn, lobbyId) {
  const room = lobbyRoom(lobbyId);
  if (conn.data.lobby !== undefined) {
    throw new ProtocolError(`already in lobby ${JSON.stringify(conn.data.lobby)}: LEAVE it first`);
  }
  conn.join(room);
  conn.data.lobby = lobbyId;
  websockets.publish(room, ["JOINED", conn.id]);
  const peers = websockets.members(room).map((m) => m.id).filter((id) => id !== conn.id);
  conn.send(["PEERS", peers.sort()]);
}

// exitLobby takes conn out of its lobby and tells the members left.
function exitLobby(conn) {
  const room = lobbyRoom(conn.data.lobby);
  conn.leave(room);
  delete conn.data.lobby;
  websockets.publish(room, ["LEFT", conn.id], { except: conn });
}

// currentLobby returns the id of the lobby conn is in.
function currentLobby(conn) {
  if (conn.data.lobby === undefined) {
    throw new ProtocolError("not in a lobby: JOIN one first");
  }
  return conn.data.lobby;
}

// lobbyIdOf checks the data of JOIN and LEAVE: the lobby id itself, a string.
function lobbyIdOf(data) {
  if (typeof data !== "string" || data === "") {
    throw new ProtocolError(`the lobby id must be a non-empty string, got ${JSON.stringify(data)}`);
  }
  lobbyRoom(data); // refuses an id too long to be a room
  return data;
}

// lobbyRoom is the blimp room of the lobby's members.
function lobbyRoom(lobbyId) {
  return roomName("the lobby id is", "lobby", lobbyId);
}
