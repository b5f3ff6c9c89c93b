export function onMessage(m) { return m; }
