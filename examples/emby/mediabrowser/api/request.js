// Small helpers the HTTP handlers share: reading parameters and answering errors.
//
// blimp matches HTTP paths exactly, so where Emby puts an id in the path
// (/Sessions/{Id}/Playing) this example takes it as a query parameter
// (/Sessions/Play?Id=...). Every parameter may come from the query string or from a
// JSON body; the body wins when both have it.

/** The request's parameters: query string merged with the JSON body (if any). */
export function params(req) {
  const body = req.json && typeof req.json === "object" && !Array.isArray(req.json) ? req.json : {};
  return { ...req.query, ...body };
}

/** Reads an optional whole number >= 0 that may arrive as text ("100") or a number.
 * Returns undefined when absent, NaN when it is not such a number. */
export function ticks(value) {
  if (value === undefined || value === null || value === "") return undefined;
  const n = typeof value === "number" ? value : /^\d+$/.test(String(value)) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : NaN;
}

/** Reads a list given as an array or as comma-separated text ("a,b,c"). */
export function list(value) {
  if (Array.isArray(value)) return value.map(String).filter((s) => s !== "");
  if (typeof value === "string") return value.split(",").map((s) => s.trim()).filter((s) => s !== "");
  return [];
}

export function badRequest(message) {
  return { status: 400, body: { error: message } };
}

export function notFound(message) {
  return { status: 404, body: { error: message } };
}

/** 204 No Content: what Emby answers to commands. */
export const noContent = undefined;
