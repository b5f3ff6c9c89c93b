// The connection object's fields and methods.
export function onOpen(conn) {
  conn.data.messages = 0;
}

export function onMessage(message, conn) {
  conn.data.messages++;
  switch (message) {
    case "info":
      return {
        id: conn.id,
        endpoint: conn.endpoint,
        remoteAddress: conn.remoteAddress,
        headers: conn.headers,
        query: conn.query,
        openedAtType: typeof conn.openedAt,
        openedAt: conn.openedAt,
        toStringIsId: String(conn) === conn.id && `${conn}` === conn.id && conn.toString() === conn.id,
      };
    case "count":
      return "messages " + conn.data.messages;
    case "close":
      conn.close(4321, "closed by the handler");
      return;
    case "close-default":
      conn.close();
      return;
    case "code-1005":
      return tryClose(conn, 1005);
    case "code-2999":
      return tryClose(conn, 2999);
    case "code-5000":
      return tryClose(conn, 5000);
    case "long-reason":
      return tryClose(conn, 4000, "x".repeat(124));
  }
  return "unknown " + message;
}

function tryClose(conn, code, reason) {
  try {
    conn.close(code, reason);
    return "closed without error";
  } catch (e) {
    return "threw: " + e.message;
  }
}
