// Users: UserUpdated, UserDeleted and UserDataChanged events.
// Descriptors: Users.http (POST and DELETE /Users?Id=...) and
// Users.Items.UserData.http (POST /Users/Items/UserData?UserId=...&ItemId=...).
// This example keeps no user accounts: the calls only announce the change to every
// identified client.

import { pushToAll } from "../lib/events";
import { params, ticks, badRequest, noContent } from "./request";

const routes = {
  // POST /Users?Id=u1 with the user object as body -> UserUpdated, Data = the user.
  // DELETE /Users?Id=u1 -> UserDeleted, Data = the user id.
  // (Emby: POST /Users/{Id} and DELETE /Users/{Id}.)
  "/Users": (req) => {
    const id = req.query.Id;
    if (!id) {
      return badRequest("Id (the user id) is required, e.g. /Users?Id=u1");
    }
    if (req.method === "DELETE") {
      pushToAll("UserDeleted", id);
      return noContent;
    }
    const user = req.json;
    if (user === null || typeof user !== "object" || Array.isArray(user)) {
      return badRequest("the body must be the user object as JSON, e.g. {\"Name\": \"ada\"}");
    }
    pushToAll("UserUpdated", { ...user, Id: id });
    return noContent;
  },

  // POST /Users/Items/UserData?UserId=u1&ItemId=42 with {Played, IsFavorite, ...}:
  // a user's rating or play state of an item changed -> UserDataChanged, Data =
  // {UserId, UserDataList: [the item's user data]}. Answers the user data.
  // (Emby: POST /Users/{UserId}/Items/{ItemId}/UserData.)
  "/Users/Items/UserData": (req) => {
    const p = params(req);
    if (!p.UserId || !p.ItemId) {
      return badRequest("UserId and ItemId are required, e.g. /Users/Items/UserData?UserId=u1&ItemId=42");
    }
    const { data, error } = userData(p);
    if (error) {
      return badRequest(error);
    }
    pushToAll("UserDataChanged", { UserId: String(p.UserId), UserDataList: [data] });
    return data;
  },
};

export function onRequest(req) {
  return routes[req.path](req);
}

// The fields of Emby's UserItemDataDto a client may set, and their types.
const flags = ["Played", "IsFavorite", "Likes"];
const counts = ["PlaybackPositionTicks", "PlayCount"];

function userData(p) {
  const data = { ItemId: String(p.ItemId), Key: String(p.ItemId) };
  for (const name of flags) {
    if (p[name] === undefined) continue;
    const v = p[name] === "true" ? true : p[name] === "false" ? false : p[name];
    if (typeof v !== "boolean") {
      return { error: name + " must be true or false" };
    }
    data[name] = v;
  }
  if (p.Rating !== undefined) {
    const rating = Number(p.Rating); // 0 to 10, fractions allowed
    if (p.Rating === "" || !(rating >= 0 && rating <= 10)) {
      return { error: "Rating must be a number from 0 to 10" };
    }
    data.Rating = rating;
  }
  for (const name of counts) {
    const n = ticks(p[name]);
    if (Number.isNaN(n)) {
      return { error: name + " must be a whole number >= 0" };
    }
    if (n !== undefined) data[name] = n;
  }
  return { data };
}
