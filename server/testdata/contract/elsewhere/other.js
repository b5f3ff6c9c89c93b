// A connection of another project: app's handlers must not see it.
export function onMessage(message, conn) {
  return conn.id;
}
