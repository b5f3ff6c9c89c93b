// Users and their sessions.
//
// The users, with their passwords and the trackers they own, are in users.json
// beside this file (blimp reloads the project when it changes). A session is made
// by user/auth and kept in the store (sdk/db, collection "sessions"), so a hash
// stays valid across reloads and restarts of the server.
import { store } from "sdk/db";
import { ApiError, SESSION_ENDED, WRONG_HASH, WRONG_LOGIN } from "./api";
import config from "./users.json";

// A hash is 32 lower-case hex digits, as Navixy's are.
const hashPattern = /^[0-9a-f]{32}$/;

// users maps each user's id to the user. A malformed users.json fails the load of
// the project (and `blimp check`) with a message naming the entry.
const users = new Map();
if (!config || !Array.isArray(config.users)) {
  throw new Error('users.json: want {"users": [{"id": 1, "login": "...", "password": "...", "trackers": [...]}]}');
}
config.users.forEach((u, i) => {
  if (!u || !Number.isInteger(u.id) || users.has(u.id)) {
    throw new Error(`users.json: users[${i}].id must be an integer of its own`);
  }
  if (typeof u.login !== "string" || u.login === "" || typeof u.password !== "string" || u.password === "") {
    throw new Error(`users.json: users[${i}] needs a login and a password (non-empty strings)`);
  }
  if (!Array.isArray(u.trackers) || !u.trackers.every(Number.isInteger)) {
    throw new Error(`users.json: users[${i}].trackers must be a list of tracker ids`);
  }
  users.set(u.id, u);
});

// findUser returns the user with this login and password, or throws WRONG_LOGIN.
export function findUser(login, password) {
  for (const user of users.values()) {
    if (user.login === login && user.password === password) {
      return user;
    }
  }
  throw new ApiError(WRONG_LOGIN);
}

// newHash returns 32 random hex digits. (goja has no crypto module: Math.random is
// the only source of randomness a handler has. A production service wants a
// cryptographic one.)
function newHash() {
  let hash = "";
  while (hash.length < 32) {
    hash += Math.floor(Math.random() * 0x10000).toString(16).padStart(4, "0");
  }
  return hash;
}

// createSession stores a new session for user and returns its hash.
export async function createSession(user) {
  const hash = newHash();
  await store.save("sessions", { hash, user_id: user.id, login: user.login });
  return hash;
}

// userOfHash returns the user whose session has this hash. A missing or malformed
// hash is WRONG_HASH; a well-formed one no session has (or whose user is gone from
// users.json) is SESSION_ENDED.
export async function userOfHash(hash) {
  if (typeof hash !== "string" || !hashPattern.test(hash)) {
    throw new ApiError(WRONG_HASH);
  }
  const found = await store.list("sessions", {
    filters: [{ field: "hash", operator: "=", value: hash }],
    limit: 1,
  });
  const user = found.length > 0 ? users.get(found[0].user_id) : undefined;
  if (!user) {
    throw new ApiError(SESSION_ENDED);
  }
  return user;
}
