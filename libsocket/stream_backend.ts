/**
 * What a stream socket of `libsocket` needs from whatever carries it: a
 * daemon through the socket hop (`hop_stream.ts`) or a stack embedded in the
 * program (`embedded_tcp.ts`). `stream.ts` builds the Deno-shaped `Conn` and
 * `Listener` over either. Failures are `ErrnoError`s.
 *
 * @module
 */

import type { Endpoint } from "../core/net/inet_addr.ts";
import type { TcpOption } from "./tcp_core.ts";

/** One connected stream socket. */
export interface StreamBackend {
  /** The local and the peer's address (fixed once connected). */
  readonly local: Endpoint;
  readonly remote: Endpoint;
  /** Bytes copied into `p` (at least 1 when `p` is not empty); null at the end of the stream. */
  read(p: Uint8Array): Promise<number | null>;
  /** Takes all of `p` (resolving to `p.length`) once it is buffered for sending, as a kernel does; waits while the buffers are full. */
  write(p: Uint8Array): Promise<number>;
  /** Half-closes: a FIN after what was written. */
  closeWrite(): Promise<void>;
  /** Sets an option; a failure is reported by the next call (Deno's setters return nothing). */
  setOption(name: TcpOption, value: number): void;
  /** Whether pending calls keep the program alive (Deno's ref/unref). */
  ref(): void;
  unref(): void;
  close(): void;
}

/** One listening stream socket. */
export interface ListenerBackend {
  readonly local: Endpoint;
  /** The next connection from the accept queue. */
  accept(): Promise<StreamBackend>;
  ref(): void;
  unref(): void;
  close(): void;
}
