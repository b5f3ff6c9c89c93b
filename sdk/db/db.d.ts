// TypeScript declarations for blimp's "sdk/db" module (see sdk/net/net.d.ts for how
// to point an editor at them).

declare module "sdk/db" {
  /** A stored document: what was saved, plus the id and created time the store adds. */
  export interface Document {
    id: string;
    /** Milliseconds since the epoch. */
    created: number;
    [field: string]: any;
  }

  export type Operator =
    | "=" | "==" | "eq" | "!=" | "ne" | ">" | "gt" | ">=" | "gte" | "<" | "lt" | "<=" | "lte"
    | "contains" | "in";

  export interface Filter {
    /** A field path: "created", "username", "data.score", "data.tags.0". */
    field: string;
    operator: Operator;
    value: any;
  }

  /** Cinema8's search query. Every key is optional. */
  export interface Query {
    /** Default "created". */
    sortField?: string;
    /** Default "asc". */
    sortOrder?: "asc" | "desc";
    offset?: number;
    /** Default 100, at most 1000. */
    limit?: number;
    filters?: Filter[];
    /** Count documents by this field instead of listing them. */
    groupBy?: string;
  }

  export interface Group {
    value: any;
    count: number;
  }

  export const store: {
    /** Saves doc and resolves with its new id once it is on disk. */
    save(collection: string, doc: Record<string, any>): Promise<string>;
    /** The document with id, or null. An id that is not a non-empty string throws. */
    get(collection: string, id: string): Promise<Document | null>;
    /** Whether a document was removed. An id that is not a non-empty string throws. */
    remove(collection: string, id: string): Promise<boolean>;
    /** The matching documents; with groupBy, the groups with their counts. */
    list(collection: string, query?: Query): Promise<Document[] | Group[]>;
    /** How many documents match (offset and limit ignored); with groupBy, how many groups. */
    count(collection: string, query?: Query): Promise<number>;
  };
}
