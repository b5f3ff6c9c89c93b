let count = 0; // module state: loaded once, shared by every importer

export const add = (a, b) => {
  count++;
  return a + b;
};

export function twice(x) {
  return add(x, x);
}

export function calls() {
  return count;
}
