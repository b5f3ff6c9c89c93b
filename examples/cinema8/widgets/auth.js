// Authentication for the widget channel: who is on the other end of a connection.
//
// A page authenticates a connection with a token, sent either as an
// `Authorization: Bearer <token>` header (clients that can set headers) or as the
// `token` query parameter (browsers: the WebSocket API cannot set headers). The
// header wins when both are there. Tokens are looked up in users.json, beside this
// file, which blimp reloads (with the rest of the project) when it changes.
//
// No token (or an empty one): the connection is anonymous and its username is null. A token that is
// not in users.json: the connection is refused. The username is only ever taken from
// here, never from what a client publishes.
import users from "./users.json";

// minTokenLength keeps guessable tokens out of users.json.
const minTokenLength = 16;

// usernames maps each token to its user's name. A malformed users.json fails the
// project's load (and `blimp check`) with a message naming the entry.
const usernames = new Map();
if (!users || !Array.isArray(users.users)) {
  throw new Error('users.json: want {"users": [{"username": "...", "token": "..."}, ...]}');
}
users.users.forEach((u, i) => {
  if (!u || typeof u.username !== "string" || u.username === "") {
    throw new Error(`users.json: users[${i}].username must be a non-empty string`);
  }
  if (typeof u.token !== "string" || u.token.length < minTokenLength) {
    throw new Error(`users.json: users[${i}].token must be a string of at least ${minTokenLength} characters`);
  }
  if (usernames.has(u.token)) {
    throw new Error(`users.json: users[${i}].token is also the token of ${usernames.get(u.token)}`);
  }
  usernames.set(u.token, u.username);
});

// Refusal is why a connection is not let in: code is the machine-readable kind,
// message what to do about it, reason the short close reason (at most 123 bytes).
export class Refusal extends Error {
  constructor(code, message, reason) {
    super(message);
    this.code = code;
    this.reason = reason;
  }
}

// authenticate returns the username of conn's token, or null when it has none. It
// throws a Refusal for a token that is not known or a header it cannot read.
export function authenticate(conn) {
  let token;
  const header = conn.headers["authorization"];
  if (header !== undefined) {
    const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (!m) {
      throw new Refusal("unauthorized", "the Authorization header must be 'Bearer <token>'", "unauthorized");
    }
    token = m[1];
  } else if (conn.query.token) {
    token = conn.query.token; // an empty ?token= is no token
  }
  if (token === undefined) {
    return null;
  }
  const username = usernames.get(token);
  if (username === undefined) {
    throw new Refusal("unauthorized", "unknown token: connect without one to be anonymous, or use a token from users.json", "unauthorized");
  }
  return username;
}
