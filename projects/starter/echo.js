// The smallest handler: whatever onMessage returns is sent back to the sender.
// Text arrives as a string, binary frames as an ArrayBuffer; both echo unchanged.
export function onMessage(message, conn) {
  return message;
}
