// The client example of Dirigible's sdk/net documentation, as a module of this
// project. In Dirigible it is a top-level script; in blimp it runs inside an event:
// ws-handler.js calls initialize(uri) when a connection to my-endpoint sends
// "connect", with the URI of this server's echo endpoint in place of
// ws://echo.websocket.org:80/, and close() once the echo has come back.
import { websockets } from "sdk/net";

export const handler = "my-project/ws-handler";

export function initialize(uri) {
  console.log("Connect to: " + uri);
  let websocket = websockets.createWebsocket(uri, handler);
  websocket.send("hello"); // queued until the connection opens, then sent
  return websocket;
}

// The documentation's last line. Calling it right after initialize() works too:
// "hello" still goes out before the close frame, and its echo still arrives.
export function close() {
  websockets.getClientByHandler(handler).close();
}
