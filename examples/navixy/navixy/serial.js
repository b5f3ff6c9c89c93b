// serial runs work queued under the same key one piece after another, in the order
// it was queued, even when a piece waits in between (for the store, say). The
// socket uses it per connection, so that a subscribe followed at once by an
// unsubscribe is handled in that order; tracker reports use it per tracker.
//
// It returns a promise of work's result. A piece that fails does not stop the
// pieces queued after it.
const tails = new Map(); // key -> promise that settles when the key's last piece is done

export function serial(key, work) {
  const previous = tails.get(key) || Promise.resolve();
  const done = previous.then(() => work());
  const tail = done.catch(() => {});
  tails.set(key, tail);
  tail.then(() => {
    if (tails.get(key) === tail) {
      tails.delete(key); // nothing queued behind it: forget the key
    }
  });
  return done;
}
