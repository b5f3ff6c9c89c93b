// Benchmark fan-out handler (bench/run): every message goes to every connection of the
// endpoint, the sender included (the load generator's publisher counts its own copies).
import { websockets } from "sdk/net";

export function onMessage(m) {
  websockets.broadcast("fanout", m);
}
