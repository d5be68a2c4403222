/**
 * What a tool's main function is given: its output streams, its environment,
 * and a way to reach the stack. Tools are `(args, ctx) => exit code`, so tests
 * run them against a fake client and compare whole outputs.
 *
 * @example A tool against a fake client
 * ```ts
 * import type { ToolContext } from "./tool_context.ts";
 * let out = "";
 * const ctx: ToolContext = {
 *   name: "demo",
 *   env: {},
 *   stdout: (s) => { out += s; },
 *   stderr: (s) => { out += s; },
 *   connect: () => Promise.reject(new Error("no stack in this example")),
 * };
 * ctx.stdout("hello\n");
 * ```
 * @module
 */

import type {
  ControlOp,
  ControlRequest,
  ControlResults,
  SocketEvent,
} from "../core/control/ops.ts";

/** A request for one op. */
export type RequestOf<O extends ControlOp> = Extract<ControlRequest, { op: O }>;

/** A connection to one stack's control socket. */
export interface ControlClient {
  /** Sends a request and waits for its result; an error reply rejects with an `ErrnoError`. */
  call<O extends ControlOp>(req: RequestOf<O>): Promise<ControlResults[O]>;
  /** Receives the events the daemon pushes (datagrams for sockets this connection opened). */
  onEvent(handler: (event: SocketEvent) => void): void;
  /** Closes the connection. */
  close(): void;
}

/** The world as a tool sees it. */
export interface ToolContext {
  /** The tool's name for messages (`ifconfig`). */
  name: string;
  /** Environment variables (`SOCK` selects the stack). */
  env: Record<string, string | undefined>;
  stdout(text: string): void;
  stderr(text: string): void;
  /**
   * Connects to the stack. Rejects with a `StackUnreachableError` (tools/client.ts)
   * when nothing answers at the socket path.
   */
  connect(): Promise<ControlClient>;
}
