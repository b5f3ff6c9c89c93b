export interface ChatMessage {
  type: "message";
  name: string;
  text: string;
  at: number;
}

/** format builds the message everyone in the chat receives. */
export function format(name: string, text: string): ChatMessage {
  return { type: "message", name, text: text.slice(0, 2000), at: Date.now() };
}
