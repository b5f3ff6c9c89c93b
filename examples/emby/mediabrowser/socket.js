// The Emby server web socket, served at ws://host:port/mediabrowser
// (mediabrowser.websocket). Every frame is a {MessageType, Data} JSON envelope.
//
// A client must identify itself first:
//   {"MessageType": "Identity", "Data": "Dashboard|df787898fdsf7ds80|1.0.0.0|nexus7"}
// Then it may send the messages in `messages` below, and it receives the server
// events the HTTP handlers in api/ push (LibraryChanged, Play, ...).

import { websockets } from "sdk/net";
import settings from "./settings.json";
import { parse, envelope, errorEnvelope, closeCodes } from "./lib/envelope";
import * as sessions from "./lib/sessions";
import * as timers from "./lib/timers";

export function onOpen(conn) {
  // A client that never identifies itself is closed after a while.
  armIdentityDeadline(conn, settings.identityTimeoutMs);
}

export function onMessage(frame, conn) {
  const msg = parse(frame, Object.keys(messages));
  if (msg.error) {
    return refuse(conn, "InvalidMessage", msg.error);
  }
  if (!sessions.isIdentified(conn) && msg.type !== "Identity") {
    return refuse(conn, "IdentityRequired", 'send {"MessageType": "Identity", "Data": "client|deviceId|version|deviceName"} first, got ' + (msg.type || msg.unknown));
  }
  if (msg.unknown) {
    return errorEnvelope("UnknownMessageType", 'unknown MessageType "' + msg.unknown + '"; this server handles ' + Object.keys(messages).join(", "));
  }
  if (sessions.isIdentified(conn)) {
    sessions.touch(conn);
  }
  // What a message function returns (an envelope, or nothing) goes back to the client.
  return messages[msg.type](msg.data, conn);
}

export function onClose(conn) {
  // Timers live in module state, keyed by connection id: clear them, or they leak.
  timers.clearTimers(conn.id);
}

// ---- The messages a client sends ---------------------------------------------------

const messages = {
  // "client|deviceId|version|deviceName": creates the client's session.
  Identity(data, conn) {
    const { identity, error } = sessions.parseIdentity(data);
    const mismatch = identity ? sessions.checkAuthorizationClient(conn, identity.client) : "";
    if (error || mismatch) {
      return refuse(conn, "InvalidIdentity", error || mismatch);
    }
    timers.clearIdentityDeadline(conn.id);
    sessions.identify(conn, identity);
  },

  // "initialDelayMs,intervalMs": send "Sessions" after the delay, then every interval,
  // until SessionsStop (or the client disconnects).
  SessionsStart(data, conn) {
    const { delayMs, intervalMs, error } = parseSchedule(data);
    if (error) {
      return errorEnvelope("InvalidData", error);
    }
    conn.data.sessionsFeed = { intervalMs }; // for a reload to re-arm it (see the end)
    armSessionsFeed(conn, delayMs, intervalMs);
  },

  SessionsStop(data, conn) {
    delete conn.data.sessionsFeed;
    timers.stopSessionsFeed(conn.id);
  },

  // "ItemType|ItemId|ItemName": where the user is browsing.
  Context(data, conn) {
    const { item, error } = sessions.parseContext(data);
    if (error) {
      return errorEnvelope("InvalidData", error);
    }
    sessions.setNowViewing(conn, item);
  },

  // Playback check-ins, as over HTTP (POST /Sessions/Playing, .../Progress, .../Stopped).
  ReportPlaybackStart: checkIn("ReportPlaybackStart", sessions.playbackStarted),
  ReportPlaybackProgress: checkIn("ReportPlaybackProgress", sessions.playbackProgressed),
  ReportPlaybackStopped: checkIn("ReportPlaybackStopped", sessions.playbackStopped),

  // Not in the 2019 document: later Emby clients send KeepAlive and get one back.
  KeepAlive() {
    return envelope("KeepAlive");
  },
};

function checkIn(type, update) {
  return (data, conn) => {
    const { info, error } = sessions.parseCheckIn(type, data);
    if (error) {
      return errorEnvelope("InvalidData", error);
    }
    update(conn, info);
  };
}

/** Parses "initialDelayMs,intervalMs", e.g. "1000,1000". */
function parseSchedule(data) {
  const m = typeof data === "string" ? /^\s*(\d+)\s*,\s*(\d+)\s*$/.exec(data) : null;
  if (!m) {
    return { error: 'SessionsStart: Data must be "initialDelayMs,intervalMs", e.g. "1000,1000"' };
  }
  const delayMs = Number(m[1]);
  const intervalMs = Number(m[2]);
  if (delayMs > settings.maxScheduleMs || intervalMs > settings.maxScheduleMs) {
    return { error: "SessionsStart: delays are at most " + settings.maxScheduleMs + " ms" };
  }
  if (intervalMs < settings.minSessionsIntervalMs) {
    return { error: "SessionsStart: intervalMs must be at least " + settings.minSessionsIntervalMs };
  }
  return { delayMs, intervalMs };
}

/**
 * Tells the client what it did wrong with an Error envelope. A client that has not
 * identified itself yet is also disconnected, with the 4000-range close code of the
 * problem (see lib/envelope.js); an identified one stays connected.
 */
function refuse(conn, code, message) {
  conn.send(errorEnvelope(code, message));
  if (!sessions.isIdentified(conn)) {
    timers.clearTimers(conn.id);
    conn.close(closeCodes[code], code);
  }
}

function armIdentityDeadline(conn, ms) {
  timers.startIdentityDeadline(conn, ms, (c) =>
    refuse(c, "IdentityTimeout", "no Identity message within " + settings.identityTimeoutMs + " ms of connecting"),
  );
}

function armSessionsFeed(conn, delayMs, intervalMs) {
  timers.startSessionsFeed(conn, delayMs, intervalMs, () => envelope("Sessions", sessions.listSessions()));
}

// A hot reload loads this module afresh, and the old code's timers stop with it:
// re-arm them for the clients already connected, from what their conn.data says.
for (const conn of websockets.getConnections("emby")) {
  const feed = conn.data.sessionsFeed;
  if (feed) {
    armSessionsFeed(conn, feed.intervalMs, feed.intervalMs);
  } else if (!sessions.isIdentified(conn)) {
    armIdentityDeadline(conn, Math.max(0, settings.identityTimeoutMs - (Date.now() - conn.openedAt)));
  }
}
