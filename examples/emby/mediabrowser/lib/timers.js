// The per-connection timers: the Identity deadline and the Sessions feed.
//
// Timer handles cannot be kept in conn.data (it holds JSON only), so they live
// here, in module state, keyed by connection id. The socket handler clears a
// connection's timers in onClose, so a client that goes away leaves none running;
// /Debug/Timers shows the counts.
//
// The HTTP handlers import this module too: with the default single worker per
// project they share this state with the socket handler.

const identityDeadlines = {}; // connection id -> setTimeout handle
const sessionsFeeds = {}; // connection id -> { timeout, interval }

/** Calls onExpire(conn) if the connection is still unidentified after ms. */
export function startIdentityDeadline(conn, ms, onExpire) {
  clearIdentityDeadline(conn.id);
  identityDeadlines[conn.id] = setTimeout(() => {
    delete identityDeadlines[conn.id];
    onExpire(conn);
  }, ms);
}

export function clearIdentityDeadline(id) {
  if (identityDeadlines[id] !== undefined) {
    clearTimeout(identityDeadlines[id]);
    delete identityDeadlines[id];
  }
}

/**
 * Sends makeMessage() to conn after delayMs, then every intervalMs, until
 * stopSessionsFeed. Starting again replaces the running schedule.
 */
export function startSessionsFeed(conn, delayMs, intervalMs, makeMessage) {
  stopSessionsFeed(conn.id);
  const feed = { timeout: null, interval: null };
  const tick = () => {
    // send() is false once the connection is closed: stop rather than keep ticking.
    if (!conn.send(makeMessage())) {
      stopSessionsFeed(conn.id);
    }
  };
  feed.timeout = setTimeout(() => {
    feed.timeout = null;
    feed.interval = setInterval(tick, intervalMs);
    tick();
  }, delayMs);
  sessionsFeeds[conn.id] = feed;
}

export function stopSessionsFeed(id) {
  const feed = sessionsFeeds[id];
  if (feed === undefined) {
    return;
  }
  if (feed.timeout !== null) clearTimeout(feed.timeout);
  if (feed.interval !== null) clearInterval(feed.interval);
  delete sessionsFeeds[id];
}

/** Clears every timer of a connection; called from onClose. */
export function clearTimers(id) {
  clearIdentityDeadline(id);
  stopSessionsFeed(id);
}

/** How many timers are running, for /Debug/Timers. */
export function activeTimers() {
  return {
    IdentityDeadlines: Object.keys(identityDeadlines).length,
    SessionsFeeds: Object.keys(sessionsFeeds).length,
  };
}
