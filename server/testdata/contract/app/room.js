// Fan-out and lookup through sdk/net: "command argument text".
import { websockets } from "sdk/net";

export function onMessage(message, conn) {
  const [cmd, arg, ...rest] = message.split(" ");
  const text = rest.join(" ");
  switch (cmd) {
    case "whoami":
      return conn.id;
    case "all":
      return "sent to " + websockets.broadcast("room", arg);
    case "others":
      return "sent to " + websockets.broadcast("room", arg, { except: conn });
    case "others-by-id":
      return "sent to " + websockets.broadcast("room", arg, { except: conn.id });
    case "others-list":
      return "sent to " + websockets.broadcast("room", arg, { except: [conn, "no-such-id"] });
    case "send":
      return "send " + websockets.send(arg, text);
    case "get": {
      const c = websockets.getConnection(arg);
      return c === null ? "null" : c.id + "@" + c.endpoint;
    }
    case "poke":
      websockets.getConnection(arg).send("poked by " + conn.id);
      return "poked";
    case "list":
      return websockets.getConnections().map((c) => c.id).sort().join(",");
    case "list-lobby":
      return websockets.getConnections("lobby").map((c) => c.endpoint + ":" + c.id).join(",");
    case "count":
      return { all: websockets.count(), room: websockets.count("room"), lobby: websockets.count("lobby") };
    case "count-foreign":
      try {
        return "no error " + websockets.count("other");
      } catch (e) {
        return "threw: " + e.message;
      }
  }
  return "unknown command " + cmd;
}
