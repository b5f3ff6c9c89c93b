// GET /Sessions: the sessions list, the same one "Sessions" messages carry.
// POST /Sessions/{Browse,Play,Playstate,GeneralCommand,DisplayMessage}?Id=<session id>:
// remote control commands, each sent to that one session's web socket as the
// MessageType of the same name. Parameters come from the query or a JSON body.
// (Emby puts the session id in the path: /Sessions/{Id}/Playing and so on.)
// Descriptors: Sessions*.http.

import { listSessions } from "../lib/sessions";
import { pushToSession } from "../lib/events";
import { params, ticks, list, badRequest, notFound, noContent } from "./request";

export function onRequest(req) {
  if (req.path === "/Sessions") {
    return listSessions();
  }
  const type = req.path.slice("/Sessions/".length); // the MessageType to send
  const p = params(req);
  if (!p.Id) {
    return badRequest(type + ": Id (the session id) is required, e.g. ?Id=<an Id from GET /Sessions>");
  }
  const { data, error } = commands[type](p);
  if (error) {
    return badRequest(type + ": " + error);
  }
  if (!pushToSession(String(p.Id), type, data)) {
    return notFound(type + ': no identified session has Id "' + p.Id + '" (see GET /Sessions)');
  }
  return noContent;
}

// Each command checks its parameters and builds the Data of its message.
const commands = {
  // Browse to an item: {ItemType, ItemId, ItemName, Context}.
  // Context (movies, tv, games...) may be blank.
  Browse(p) {
    if (!p.ItemType || !p.ItemId || !p.ItemName) {
      return { error: "ItemType, ItemId and ItemName are required" };
    }
    return { data: { Context: String(p.Context || ""), ItemId: String(p.ItemId), ItemName: String(p.ItemName), ItemType: String(p.ItemType) } };
  },

  // Play items: {ItemIds, PlayCommand, StartPositionTicks?}.
  Play(p) {
    const itemIds = list(p.ItemIds);
    if (itemIds.length === 0) {
      return { error: "ItemIds is required: item ids, comma-separated (or a JSON array)" };
    }
    if (!["PlayNow", "PlayNext", "PlayLast"].includes(p.PlayCommand)) {
      return { error: "PlayCommand must be PlayNow, PlayNext or PlayLast" };
    }
    const start = ticks(p.StartPositionTicks);
    if (Number.isNaN(start)) {
      return { error: "StartPositionTicks must be a whole number >= 0" };
    }
    const data = { ItemIds: itemIds, PlayCommand: p.PlayCommand };
    if (start !== undefined) data.StartPositionTicks = start; // only "if supplied"
    return { data };
  },

  // Change the play state: {Command, SeekPositionTicks (Seek only)}.
  Playstate(p) {
    if (!["Stop", "Pause", "Unpause", "NextTrack", "PreviousTrack", "Seek"].includes(p.Command)) {
      return { error: "Command must be Stop, Pause, Unpause, NextTrack, PreviousTrack or Seek" };
    }
    const seek = ticks(p.SeekPositionTicks);
    if (p.Command === "Seek" && (seek === undefined || Number.isNaN(seek))) {
      return { error: "Seek needs SeekPositionTicks, a whole number >= 0" };
    }
    return { data: p.Command === "Seek" ? { Command: "Seek", SeekPositionTicks: seek } : { Command: p.Command } };
  },

  // A general command: Data is the command's name itself.
  GeneralCommand(p) {
    const names = ["GoHome", "GoToSettings", "Mute", "Unmute", "ToggleMute", "VolumeUp", "VolumeDown"];
    if (!names.includes(p.Command)) {
      return { error: "Command must be one of " + names.join(", ") };
    }
    return { data: p.Command };
  },

  // Show a message: {Header, Text, TimeoutMs?}. Without TimeoutMs the client keeps
  // it up until the user confirms it, so TimeoutMs is left out, not sent as null.
  DisplayMessage(p) {
    if (typeof p.Text !== "string" || p.Text === "") {
      return { error: "Text is required" };
    }
    const timeout = ticks(p.TimeoutMs);
    if (Number.isNaN(timeout)) {
      return { error: "TimeoutMs must be a whole number of milliseconds >= 0" };
    }
    const data = { Header: typeof p.Header === "string" ? p.Header : "", Text: p.Text };
    if (timeout !== undefined) data.TimeoutMs = timeout;
    return { data };
  },
};
