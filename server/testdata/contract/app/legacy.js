// Dirigible's older handler style: no exports. The whole module runs afresh for
// every event and branches on the context functions.
var websockets = require("sdk/net").websockets;

var runs = 0;
runs++; // a fresh run each time: always 1

if (websockets.isOnOpen()) {
  websockets.broadcast("watch", "legacy " + websockets.getMethod() + " runs=" + runs);
} else if (websockets.isOnMessage()) {
  var message = websockets.getMessage();
  var clients = websockets.getConnections("legacy");
  for (var i = 0; i < clients.length; i++) {
    websockets.send(clients[i].id, "legacy got " + message + " runs=" + runs);
    websockets.getConnection(clients[i].id).send("legacy again " + message);
  }
  if (message === "fail") {
    throw new Error("legacy failure");
  }
} else if (websockets.isOnError()) {
  websockets.broadcast("watch", "legacy " + websockets.getMethod() + " " + websockets.getError());
} else if (websockets.isOnClose()) {
  websockets.broadcast("watch", "legacy " + websockets.getMethod() + " runs=" + runs);
}
