// Sessions: one per identified web socket client.
//
// A client's session is kept in conn.data.session, so it survives a hot reload of
// the project along with the connection. The sessions list (what "Sessions"
// messages carry and GET /Sessions returns) is built from the open connections.

import { websockets } from "sdk/net";

/** The room every identified client joins; server events are published to it. */
export const IDENTIFIED = "identified";

// ---- Identity -------------------------------------------------------------------

/**
 * Parses Identity's Data, "client|deviceId|version|deviceName", e.g.
 * "Dashboard|df787898fdsf7ds80|1.0.0.0|nexus7". Client, device id and version must
 * be non-empty; the device name may be empty or left off (as Emby's server allows).
 * Returns { identity } or { error }.
 */
export function parseIdentity(data) {
  const format = 'Data must be "client|deviceId|version|deviceName", e.g. "Dashboard|df787898fdsf7ds80|1.0.0.0|nexus7"';
  if (typeof data !== "string") {
    return { error: "Identity: " + format };
  }
  const parts = data.split("|");
  if (parts.length < 3) {
    return { error: "Identity: got " + parts.length + " field(s); " + format };
  }
  const [client, deviceId, version] = parts;
  const deviceName = parts.slice(3).join("|"); // a device name may itself hold a "|"
  for (const [name, value] of [["client", client], ["deviceId", deviceId], ["version", version]]) {
    if (value.trim() === "") {
      return { error: "Identity: " + name + " is empty; " + format };
    }
  }
  return { identity: { client, deviceId, version, deviceName } };
}

/**
 * The client name must match the one in the HTTP authorization header, e.g.
 *   X-Emby-Authorization: MediaBrowser Client="Dashboard", DeviceId="...", ...
 * Browsers cannot set headers on a web socket, so the check applies only when the
 * handshake carried such a header. Returns an error text, or "" when fine.
 */
export function checkAuthorizationClient(conn, client) {
  const header = conn.headers["x-emby-authorization"] || conn.headers["authorization"] || "";
  if (!/^(MediaBrowser|Emby)\s/i.test(header)) {
    return "";
  }
  const m = /Client="([^"]*)"/i.exec(header);
  if (m && m[1] !== client) {
    return 'Identity: client "' + client + '" does not match Client="' + m[1] + '" of the authorization header';
  }
  return "";
}

/** Creates (or, for a repeated Identity, updates) the connection's session. */
export function identify(conn, identity) {
  const old = conn.data.session;
  conn.data.session = {
    Client: identity.client,
    DeviceId: identity.deviceId,
    ApplicationVersion: identity.version,
    DeviceName: identity.deviceName,
    LastActivityDate: now(),
    NowViewingItem: old ? old.NowViewingItem : null,
    NowPlayingItem: old ? old.NowPlayingItem : null,
    PlayState: old ? old.PlayState : emptyPlayState(),
  };
  conn.join(IDENTIFIED);
}

export function isIdentified(conn) {
  return conn.data.session !== undefined;
}

/** Records activity: every message an identified client sends counts. */
export function touch(conn) {
  conn.data.session.LastActivityDate = now();
}

// ---- Context: where the user is browsing ---------------------------------------

/**
 * Parses Context's Data, "ItemType|ItemId|ItemName". All three must be present,
 * but any may be empty; all empty means the user is not viewing an item.
 * Returns { item } (null when all are empty) or { error }.
 */
export function parseContext(data) {
  const format = 'Data must be "ItemType|ItemId|ItemName" (empty values are fine, e.g. "Movie|42|" or "||")';
  if (typeof data !== "string") {
    return { error: "Context: " + format };
  }
  const parts = data.split("|");
  if (parts.length < 3) {
    return { error: "Context: got " + parts.length + " value(s); " + format };
  }
  const [type, id] = parts;
  const name = parts.slice(2).join("|");
  if (type === "" && id === "" && name === "") {
    return { item: null };
  }
  return { item: { Type: type, Id: id, Name: name } };
}

export function setNowViewing(conn, item) {
  conn.data.session.NowViewingItem = item;
}

// ---- Playback check-ins ----------------------------------------------------------

// What a check-in may carry (Emby's PlaybackStartInfo / PlaybackProgressInfo /
// PlaybackStopInfo), with the type each field must have. ItemId is required.
const checkInFields = {
  ItemId: "string",
  MediaSourceId: "string",
  PlaySessionId: "string",
  PlayMethod: "string", // DirectPlay, DirectStream or Transcode
  PositionTicks: "number", // 10,000,000 ticks = 1 second
  VolumeLevel: "number",
  CanSeek: "boolean",
  IsPaused: "boolean",
  IsMuted: "boolean",
};

/**
 * Parses the Data of ReportPlaybackStart/Progress/Stopped: the check-in as a JSON
 * object, or as a string holding that JSON (what Emby's apiclient sends).
 * Returns { info } or { error }. Fields not listed above are ignored.
 */
export function parseCheckIn(type, data) {
  let info = data;
  if (typeof data === "string") {
    try {
      info = JSON.parse(data);
    } catch (e) {
      return { error: type + ": Data is a string but not JSON; send the check-in object, e.g. {\"ItemId\": \"42\", \"PositionTicks\": 0}" };
    }
  }
  if (info === null || typeof info !== "object" || Array.isArray(info)) {
    return { error: type + ": Data must be a check-in object, e.g. {\"ItemId\": \"42\", \"PositionTicks\": 0}" };
  }
  if (typeof info.ItemId !== "string" || info.ItemId === "") {
    return { error: type + ": ItemId is required (a non-empty string)" };
  }
  const clean = {};
  for (const [name, kind] of Object.entries(checkInFields)) {
    if (info[name] === undefined || info[name] === null) continue;
    if (typeof info[name] !== kind) {
      return { error: type + ": " + name + " must be a " + kind + ", got " + JSON.stringify(info[name]) };
    }
    clean[name] = info[name];
  }
  if (clean.PositionTicks !== undefined && (clean.PositionTicks < 0 || !Number.isInteger(clean.PositionTicks))) {
    return { error: type + ": PositionTicks must be a whole number >= 0" };
  }
  return { info: clean };
}

function emptyPlayState() {
  return { CanSeek: false, IsPaused: false, IsMuted: false };
}

/** ReportPlaybackStart: the client began playing an item. */
export function playbackStarted(conn, info) {
  const s = conn.data.session;
  s.NowPlayingItem = { Id: info.ItemId };
  s.PlayState = { ...emptyPlayState(), PositionTicks: 0, ...withoutItemId(info) };
  s.LastPlaybackCheckIn = now();
}

/** ReportPlaybackProgress: position, pause, mute... changed. A progress report for
 * an item that was never started counts as its start (as on Emby's server). */
export function playbackProgressed(conn, info) {
  const s = conn.data.session;
  if (!s.NowPlayingItem || s.NowPlayingItem.Id !== info.ItemId) {
    playbackStarted(conn, info);
    return;
  }
  s.PlayState = { ...s.PlayState, ...withoutItemId(info) };
  s.LastPlaybackCheckIn = now();
}

/** ReportPlaybackStopped: nothing is playing any more. */
export function playbackStopped(conn, info) {
  const s = conn.data.session;
  s.NowPlayingItem = null;
  s.PlayState = emptyPlayState();
  s.LastPlaybackCheckIn = now();
}

function withoutItemId(info) {
  const { ItemId, ...rest } = info;
  return rest;
}

// ---- The sessions list ----------------------------------------------------------

/** One entry of the sessions list (Emby's SessionInfo, the fields we track). */
export function sessionInfo(conn) {
  return {
    Id: conn.id,
    RemoteEndPoint: conn.remoteAddress,
    SupportsRemoteControl: true,
    ...conn.data.session,
  };
}

/** Every identified client's session, most recently active first. Unfiltered, like
 * GET /Sessions: clients filter on their side. */
export function listSessions() {
  return websockets
    .getConnections()
    .filter(isIdentified)
    .map(sessionInfo)
    .sort((a, b) => (a.LastActivityDate < b.LastActivityDate ? 1 : a.LastActivityDate > b.LastActivityDate ? -1 : a.Id < b.Id ? -1 : 1));
}

/** The open, identified connection whose session id is id, or null. */
export function findSession(id) {
  const conn = typeof id === "string" && id !== "" ? websockets.getConnection(id) : null;
  return conn && isIdentified(conn) ? conn : null;
}

function now() {
  return new Date().toISOString();
}
