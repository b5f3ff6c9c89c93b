// Runaway handlers: the time limit and the call stack limit stop them, and the
// connection and the worker go on.
export function onOpen(conn) {
  conn.data.served = 0;
}

export function onMessage(message, conn) {
  conn.data.served++;
  switch (message) {
    case "spin":
      return spin();
    case "recurse":
      return depth(0);
    case "timer-spin":
      setTimeout(() => {
        while (true) {}
      }, 0);
      return "timer scheduled";
    case "async-spin":
      return spinLater();
  }
  return "served " + conn.data.served + ": " + message;
}

function spin() {
  while (true) {}
}

function depth(n) {
  return depth(n + 1) + 1;
}

async function spinLater() {
  await null;
  while (true) {}
}

export function onError(error, conn) {
  conn.send("onError: " + error);
}
