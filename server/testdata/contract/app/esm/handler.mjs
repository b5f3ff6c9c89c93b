// An ES module importing its siblings three ways.
import { add } from "./lib/math";
import * as math from "./lib/math.js";
import greet from "./lib/greet.mjs";

export function onMessage(message) {
  return `${greet(message)}; add(2,3)=${add(2, 3)}; twice(21)=${math.twice(21)}; calls=${math.calls()}`;
}
