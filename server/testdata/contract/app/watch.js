// The observer: other handlers broadcast what they see to its connections.
export function onOpen(conn) {}
