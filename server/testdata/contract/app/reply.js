// onMessage's return value is the reply, encoded by blimp's one rule for sending.
export function onMessage(message, conn) {
  if (message instanceof ArrayBuffer) {
    return "binary " + message.byteLength + " bytes: " + Array.from(new Uint8Array(message)).join(",");
  }
  switch (message) {
    case "string":
      return "a string";
    case "object":
      return { a: 1, b: [true, null], c: "x" };
    case "number":
      return 42;
    case "null":
      return null;
    case "arraybuffer":
      return new Uint8Array([1, 2, 3]).buffer;
    case "uint8array":
      return new Uint8Array([4, 5]);
    case "subarray":
      return new Uint8Array([6, 7, 8, 9]).subarray(1, 3);
    case "undefined":
      return undefined;
    case "nothing":
      break;
    case "promise":
      return new Promise((resolve) => setTimeout(() => resolve("resolved later"), 20));
    case "async":
      return later(conn);
    default:
      return typeof message + " " + message;
  }
}

async function later(conn) {
  await new Promise((resolve) => setTimeout(resolve, 10));
  const n = await Promise.resolve(2);
  return { awaited: n, sameConn: String(conn) === conn.id };
}
