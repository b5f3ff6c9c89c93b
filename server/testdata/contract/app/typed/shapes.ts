export type Kind = "square" | "circle";

export interface Shape {
  kind: Kind;
  size: number;
}

export enum Unit {
  Metric = "m2",
  Imperial = "ft2",
}

class Rounder<T extends number> {
  constructor(private readonly digits: T) {}
  round(x: number): number {
    const f = 10 ** this.digits;
    return Math.round(x * f) / f;
  }
}

const rounder = new Rounder(2);

export function area(s: Shape): number {
  switch (s.kind) {
    case "square":
      return s.size * s.size;
    case "circle":
      return rounder.round(Math.PI * s.size * s.size);
  }
}
