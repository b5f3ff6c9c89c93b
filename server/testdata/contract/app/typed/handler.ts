// A TypeScript handler importing a TypeScript sibling.
import { area, Unit, type Shape } from "./shapes";

interface Request {
  kind: Shape["kind"];
  size: number;
}

type Reply = { kind: string; area: number; unit: Unit };

export function onMessage(message: string | ArrayBuffer): Reply {
  const req = JSON.parse(message as string) as Request;
  const shape: Shape = { kind: req.kind, size: req.size };
  return { kind: shape.kind, area: area(shape), unit: Unit.Metric };
}
