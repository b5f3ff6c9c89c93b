import { websockets } from "sdk/net";

export function onMessage(message) {
  if (message === "later") {
    setTimeout(() => console.log("timer sees " + websockets.getMethod()), 1);
    return afterAwait();
  }
  console.log("console says " + message);
  console.warn("console warns " + message);
  console.error("console errs " + message);
  return "logged";
}

// Code after an await is still part of the event: tagged, with its context.
async function afterAwait() {
  await new Promise((resolve) => setTimeout(resolve, 5));
  console.log("after await sees " + websockets.getMethod() + " " + websockets.getMessage());
  return "logged later";
}
