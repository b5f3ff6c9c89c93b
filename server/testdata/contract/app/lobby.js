export function onMessage(message, conn) {
  return conn.id;
}
