// TypeScript declarations for blimp's "sdk/net" module. To use them in an editor,
// point your tsconfig.json at this file, e.g.
//   { "compilerOptions": { "paths": { "sdk/net": ["<blimp>/sdk/net/net.d.ts"] } } }
// blimp itself ignores types: esbuild strips them when it loads a .ts handler.

declare module "sdk/net" {
  /** What blimp can send: a string goes as a text frame, an ArrayBuffer or typed
   * array as a binary frame, anything else as JSON in a text frame. */
  export type Message = string | ArrayBuffer | ArrayBufferView | object | number | boolean | null;

  /** One open WebSocket connection of the handler's project. */
  /** A connection. Its metadata and methods are inherited from its prototype, so a
   * copy ({...conn}, Object.assign) has only data and what the handler set on it:
   * pass conn itself (or conn.id) to the sdk, and use JSON.stringify(conn) or
   * conn.toJSON() for a plain copy. */
  export interface Connection {
    readonly id: string;
    readonly endpoint: string;
    readonly remoteAddress: string;
    /** Handshake request headers, names in lower case, first value only. */
    readonly headers: Record<string, string>;
    /** Query parameters of the connection URL, first value only. */
    readonly query: Record<string, string>;
    /** When the connection opened, in milliseconds since the epoch. */
    readonly openedAt: number;
    /** Per-connection state, kept for the life of the connection. */
    data: Record<string, any>;
    /** Queues a message; false if the connection is already closed. */
    send(message: Message): boolean;
    /** Closes with code 1000 (default), 1008 (policy violation) or 3000-4999 and an optional reason (max 123 bytes). */
    close(code?: number, reason?: string): void;
    /** Joins a room of the project (a non-empty name, at most 256 bytes); false once closed. */
    join(room: string): boolean;
    /** Leaves a room. Connections leave all their rooms when they close. */
    leave(room: string): void;
    /** The rooms joined, sorted. */
    rooms(): string[];
    /** The id, so Dirigible handlers that treat the connection as a string work. */
    toString(): string;
    /** A plain object: id, endpoint, remoteAddress, openedAt, data and the handler's own properties. */
    toJSON(): Record<string, any>;
  }

  /** An outbound WebSocket connection made by websockets.createWebsocket. It is the
   * connection argument of its handler's events: onOpen(client),
   * onMessage(message, client) (a value returned is sent back to the remote),
   * onError(error, client), onClose(client, code, reason). */
  export interface WebsocketClient {
    readonly id: string;
    /** The ws:// or wss:// URI it connects to. */
    readonly uri: string;
    /** The handler module path as given to createWebsocket. */
    readonly handler: string;
    /** "connecting" until onOpen runs, "open", "closing" once close() is called,
     * "closed" from onClose on. */
    readonly state: ClientState;
    /** When the connection opened, in milliseconds since the epoch; null before. */
    readonly openedAt: number | null;
    /** Queues a message, sent in order once the connection is open; false once
     * closing or closed. */
    send(message: Message): boolean;
    /** Closes with code 1000 (default), 1008 or 3000-4999 and an optional reason (max
     * 123 bytes), after the messages already queued. */
    close(code?: number, reason?: string): void;
    /** The id. */
    toString(): string;
  }

  export type ClientState = "connecting" | "open" | "closing" | "closed";

  /** What getClients() lists for each live client. */
  export interface WebsocketClientInfo {
    id: string;
    uri: string;
    handler: string;
    state: ClientState;
    /** Milliseconds since the epoch, or null before the connection opened. */
    openedAt: number | null;
  }

  export interface FanOutOptions {
    /** Connections (or their ids) that must not receive the message. */
    except?: Connection | string | Array<Connection | string>;
  }

  export const websockets: {
    /** "onopen" | "onmessage" | "onerror" | "onclose" during an event, else undefined. */
    getMethod(): "onopen" | "onmessage" | "onerror" | "onclose" | undefined;
    /** The message of the current onmessage event. */
    getMessage(): string | ArrayBuffer | undefined;
    /** The error text of the current onerror event. */
    getError(): string | undefined;
    isOnOpen(): boolean;
    isOnMessage(): boolean;
    isOnError(): boolean;
    isOnClose(): boolean;

    /** The project's open connection with id, or null. */
    getConnection(id: string): Connection | null;
    /** The project's open connections, of one of its endpoints if given. */
    getConnections(endpoint?: string): Connection[];
    /** How many connections getConnections would return. */
    count(endpoint?: string): number;
    /** Sends to one connection of the project; false if it is not open. */
    send(id: string | Connection, message: Message): boolean;
    /** Sends to every connection of one of the project's endpoints; returns how many. */
    broadcast(endpoint: string, message: Message, options?: FanOutOptions): number;
    /** Sends to every member of one of the project's rooms; returns how many. */
    publish(room: string, message: Message, options?: FanOutOptions): number;
    /** The connections in one of the project's rooms. */
    members(room: string): Connection[];

    /** Connects to a ws:// or wss:// URI in the background and returns the client at
     * once. handler is a module of the project, written like a descriptor's
     * ("my-project/ws-handler"); its onOpen, onMessage, onError and onClose run for
     * the client's events. engine may be omitted or "javascript". Throws on a bad
     * URI, handler or engine; connection failures go to onError, then onClose. The
     * client is closed (1001) when its project is reloaded or stopped. */
    createWebsocket(uri: string, handler: string, engine?: "javascript"): WebsocketClient;
    /** The project's live clients (closed ones leave the list), oldest first. */
    getClients(): WebsocketClientInfo[];
    /** The project's live client with id, or null. */
    getClient(id: string): WebsocketClient | null;
    /** The project's newest live client created with handler, or null. */
    getClientByHandler(handler: string): WebsocketClient | null;
  };

  /** What an HTTP handler's onRequest(request) receives (a *.http descriptor). */
  export interface HttpRequest {
    method: string;
    path: string;
    query: Record<string, string>;
    /** Names in lower case, first value only. */
    headers: Record<string, string>;
    /** The body as text. */
    body: string;
    /** The parsed body when Content-Type is JSON, else undefined. */
    json?: any;
    remoteAddress: string;
    /** Whether the request came over TLS (https). */
    secure: boolean;
  }

  /** A full HTTP response; any other return value of onRequest is the body of a 200. */
  export interface HttpResponse {
    status: number;
    /** An array is sent as one header line per element, e.g. "Set-Cookie": ["a=1", "b=2"]. */
    headers?: Record<string, string | number | (string | number)[]>;
    body?: Message;
  }
}
