// POST /Library/Refresh: stands in for a library scan. The JSON body says what
// changed, as Emby's LibraryUpdateInfo does; every identified client gets
// {"MessageType": "LibraryChanged", "Data": <that LibraryUpdateInfo>}.
// Descriptor: Library.Refresh.http.

import { pushToAll } from "../lib/events";
import { badRequest, noContent } from "./request";

// The lists of a LibraryUpdateInfo: ids of folders and items. Each defaults to [].
const lists = ["FoldersAddedTo", "FoldersRemovedFrom", "ItemsAdded", "ItemsRemoved", "ItemsUpdated"];

export function onRequest(req) {
  const body = req.json === undefined ? {} : req.json;
  if (body === null || typeof body !== "object" || Array.isArray(body)) {
    return badRequest("the body must be a LibraryUpdateInfo object, e.g. {\"ItemsAdded\": [\"42\"]}");
  }
  const info = {};
  for (const name of lists) {
    const ids = body[name] === undefined ? [] : body[name];
    if (!Array.isArray(ids) || ids.some((id) => typeof id !== "string")) {
      return badRequest(name + " must be an array of item id strings");
    }
    info[name] = ids;
  }
  pushToAll("LibraryChanged", info);
  return noContent;
}
