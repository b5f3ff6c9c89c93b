// The ~/layout namespace of the 2-Immerse websocket service: publishers push
// notifications to the subscribers of a room without knowing their connections.
//
//   ["JOIN",    {"room": R, "name": nickname}]   join room R as nickname (again: rename)
//   ["NOTIFY",  {"room": R, "message": M}]       the other members of R get
//                                                ["EVENT", {"sender": nickname, "room": R, "message": M}]
//   ["LEAVE",   {"room": R}]                     leave room R
//   ["CLIENTS", {"room": R}]                     answered to the sender only:
//                                                ["CLIENTS", {"room": R, "clients": [nicknames]}]
//
// JOIN and LEAVE have no reply. Anything refused is answered with
// ["ERROR", {"event", "message"}] (see protocol.js); the connection stays open.
//
// Where membership lives: blimp rooms, held by the server, so they survive hot
// reloads of this file. A member of room R is in the blimp room ["layout",R], and
// its nickname there is a second room, ["layout-name",R,nickname]. The nickname is
// kept as a room rather than in conn.data because CLIENTS reads the nickname of
// *every* member, and only rooms can be read for any connection at any time
// (another connection's conn.data is not visible to this one after a reload).

import { websockets } from "sdk/net";
import { ProtocolError, dispatch, eventObject, requiredString, requiredValue, roomName } from "./protocol";

const events = new Map([
  ["JOIN", join],
  ["NOTIFY", notify],
  ["LEAVE", leave],
  ["CLIENTS", clients],
]);

export function onMessage(message, conn) {
  return dispatch(message, conn, events);
}

// ["JOIN", {"room": R, "name": nickname}]
function join(data, conn) {
  const req = eventObject(data);
  const room = requiredString(req, "room");
  const name = requiredString(req, "name");
  const newName = nameRoom(room, name);
  const oldName = nicknameOf(conn, room);
  // Take the new nickname before dropping the old one and before entering the room,
  // so that a member of the room always has a nickname.
  conn.join(newName);
  if (oldName !== undefined && oldName !== name) {
    conn.leave(nameRoom(room, oldName));
  }
  conn.join(memberRoom(room));
}

// ["NOTIFY", {"room": R, "message": M}]. Only members of R may notify it: the EVENT
// names its sender by the nickname it joined with, and the document has
// notifications come "from other subscribers who have joined the same room".
function notify(data, conn) {
  const req = eventObject(data);
  const room = requiredString(req, "room");
  const message = requiredValue(req, "message");
  const sender = nicknameOf(conn, room);
  if (sender === undefined) {
    throw new ProtocolError(`not in room ${JSON.stringify(room)}: JOIN it before NOTIFY`);
  }
  const event = ["EVENT", { sender, room, message }];
  websockets.publish(memberRoom(room), event, { except: conn });
}

// ["LEAVE", {"room": R}]
function leave(data, conn) {
  const room = requiredString(eventObject(data), "room");
  const name = nicknameOf(conn, room);
  if (name === undefined) {
    throw new ProtocolError(`not in room ${JSON.stringify(room)}`);
  }
  conn.leave(memberRoom(room)); // out of the room first, then drop the nickname
  conn.leave(nameRoom(room, name));
}

// ["CLIENTS", {"room": R}]: the nicknames of R's members, sorted, to the sender
// only (what onMessage returns goes back to the sender). Anyone may ask, member
// or not; a room nobody is in has no clients.
function clients(data, conn) {
  const room = requiredString(eventObject(data), "room");
  const names = websockets.members(memberRoom(room))
    .map((member) => nicknameOf(member, room))
    .filter((name) => name !== undefined); // a member closing meanwhile
  return ["CLIENTS", { room, clients: names.sort() }];
}

// memberRoom is the blimp room of the members of room.
function memberRoom(room) {
  return roomName('"room" is', "layout", room);
}

// nameRoom is the blimp room that says "my nickname in room is name".
function nameRoom(room, name) {
  return roomName('"room" and "name" together are', "layout-name", room, name);
}

// nicknameOf returns the nickname conn joined room with, or undefined if it has
// not joined it.
function nicknameOf(conn, room) {
  for (const joined of conn.rooms()) {
    const [kind, inRoom, name] = JSON.parse(joined);
    if (kind === "layout-name" && inRoom === room) {
      return name;
    }
  }
  return undefined;
}
