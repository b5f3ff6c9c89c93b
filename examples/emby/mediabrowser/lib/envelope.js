// Every frame on the Emby web socket, both ways, is one JSON object:
//
//   { "MessageType": "LibraryChanged", "Data": { ... } }
//
// MessageType names the event or action; Data is plain text or a JSON structure,
// depending on the MessageType.

/** Builds an envelope to send. A message with no data carries Data: "" (as the
 * document's own example, RestartRequired, does). */
export function envelope(type, data) {
  return { MessageType: type, Data: data === undefined ? "" : data };
}

// Emby's server compares names without regard to case ("identity" works too), so
// we look keys and MessageTypes up in lower case.
function field(obj, name) {
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

/**
 * Parses a received frame against the known MessageTypes.
 * Returns { type, data } with type in its canonical spelling, or { error } saying
 * what is wrong. A MessageType we do not know gives { unknown: "<as sent>" }.
 */
export function parse(frame, knownTypes) {
  if (typeof frame !== "string") {
    return { error: "binary frames are not part of the protocol: send a JSON text frame like {\"MessageType\": \"Identity\", \"Data\": \"...\"}" };
  }
  let msg;
  try {
    msg = JSON.parse(frame);
  } catch (e) {
    return { error: "the frame is not JSON: send {\"MessageType\": \"...\", \"Data\": ...}" };
  }
  if (msg === null || typeof msg !== "object" || Array.isArray(msg)) {
    return { error: "the frame is not a JSON object: send {\"MessageType\": \"...\", \"Data\": ...}" };
  }
  const type = field(msg, "MessageType");
  if (typeof type !== "string" || type === "") {
    return { error: "the envelope has no MessageType: send {\"MessageType\": \"...\", \"Data\": ...}" };
  }
  const canonical = knownTypes.find((t) => t.toLowerCase() === type.toLowerCase());
  if (canonical === undefined) {
    return { unknown: type };
  }
  return { type: canonical, data: field(msg, "Data") };
}

// What we send when a client breaks the protocol: an "Error" envelope (not an Emby
// MessageType; Emby clients ignore types they do not know) with a Code and a Message
// saying what to do. Before the client has identified itself, the connection is then
// closed with the close code below; afterwards it stays open.
export const closeCodes = {
  InvalidMessage: 4000, // the frame is not a {MessageType, Data} JSON envelope
  IdentityRequired: 4001, // the first message was not Identity
  InvalidIdentity: 4002, // Identity's Data is not "client|deviceId|version|deviceName"
  IdentityTimeout: 4003, // no Identity within settings.identityTimeoutMs of connecting
};

/** The Error envelope for code (a key of closeCodes, or InvalidData / UnknownMessageType). */
export function errorEnvelope(code, message) {
  return envelope("Error", { Code: code, Message: message });
}
