// TextEncoder, TextDecoder and Node's Buffer.
export function onMessage(message) {
  if (message instanceof ArrayBuffer) {
    return "decoded " + new TextDecoder().decode(message) + " / " + new TextDecoder("utf-8").decode(new Uint8Array(message));
  }
  const space = message.indexOf(" ");
  const cmd = message.slice(0, space);
  const arg = message.slice(space + 1);
  switch (cmd) {
    case "encode":
      return new TextEncoder().encode(arg);
    case "base64":
      return Buffer.from(arg, "utf8").toString("base64");
    case "unbase64":
      return Buffer.from(arg, "base64");
    case "hex":
      return require("buffer").Buffer.from(arg).toString("hex");
    case "length":
      return arg.length + " chars, " + Buffer.from(arg).length + " bytes, " + new TextEncoder().encode(arg).byteLength + " encoded";
  }
  return "unknown " + cmd;
}
