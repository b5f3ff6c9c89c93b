// Benchmark echo handler (bench/run): the reply is whatever onMessage returns.
export function onMessage(m) {
  return m;
}
