/**
 * A datagram socket on a stack embedded in the program (`Stack.openUdp`): the
 * same calls as through a daemon, with no daemon and no hop. Every call is a
 * turn of that stack; received datagrams wait in the socket's queue in the
 * core (bounded by `SO_RCVBUF`, overflow counted as `fullsock`).
 *
 * @module
 */

import { ErrnoError } from "../core/errno.ts";
import type { Endpoint, IpAddr } from "../core/net/inet_addr.ts";
import type { Stack } from "../core/stack.ts";
import type { UdpHandle } from "../core/socket/udp_handle.ts";
import type { UdpOption } from "../core/socket/udp_socket.ts";
import type { DatagramBackend } from "./backend.ts";

interface Receiver {
  from: Endpoint;
  resolve(d: Uint8Array): void;
  reject(e: unknown): void;
}

/** One socket of an embedded stack. */
export class EmbeddedSocket implements DatagramBackend {
  readonly #stack: Stack;
  readonly #h: UdpHandle;
  readonly #receivers: Receiver[] = [];

  /** Opens a socket of `family` on `stack` (the program owns the stack, so it is privileged). */
  constructor(stack: Stack, family: 4 | 6) {
    this.#stack = stack;
    this.#h = stack.openUdp(family);
    this.#h.onReadable = () => this.#deliver();
  }

  receive(from: Endpoint): Promise<Uint8Array> {
    if (this.#h.closed) return Promise.reject(new ErrnoError("EBADF", "recvfrom"));
    try {
      const d = this.#receivers.length === 0 ? this.#h.receive(from) : null;
      if (d !== null) return Promise.resolve(d);
    } catch (e) {
      return Promise.reject(e);
    }
    return new Promise((resolve, reject) => this.#receivers.push({ from, resolve, reject }));
  }

  send(data: Uint8Array, to: Endpoint | null): Promise<void> {
    try {
      if (to === null) this.#h.send(data);
      else this.#h.sendTo(data, to.addr, to.port);
      return Promise.resolve();
    } catch (e) {
      return Promise.reject(e);
    }
  }

  setOption(name: UdpOption, value: number): Promise<void> {
    return attempt(() => this.setOptionNow(name, value));
  }

  getOption(name: UdpOption): Promise<number> {
    return attempt(() => this.#h.getOption(name));
  }

  membership(
    how: "join" | "leave",
    group: IpAddr,
    ifIndex: number,
    ifAddr: IpAddr | null,
  ): Promise<void> {
    return attempt(() => {
      let index = ifIndex;
      if (index === 0 && ifAddr !== null && !ifAddr.isUnspecified) {
        const text = ifAddr.toString();
        const i = this.#stack.ifInfo().find((i) => i.addrs.some((a) => a.addr === text));
        if (!i) throw new ErrnoError("EADDRNOTAVAIL", "membership interface");
        index = i.index;
      }
      if (how === "join") this.#h.joinGroup(group, index);
      else this.#h.leaveGroup(group, index);
    });
  }

  bind(local: Endpoint): Promise<void> {
    return attempt(() => this.bindNow(local));
  }

  /** `bind`, synchronously: an embedded stack answers at once (errors are thrown). */
  bindNow(local: Endpoint): void {
    this.#h.bind(local.addr, local.port);
  }

  /** `setOption`, synchronously. */
  setOptionNow(name: UdpOption, value: number): void {
    this.#h.setOption(name, value);
  }

  /** `localAddress`, synchronously. */
  localAddressNow(): Endpoint {
    return this.#h.localAddress();
  }

  connect(to: Endpoint | null): Promise<void> {
    return attempt(() => to === null ? this.#h.disconnect() : this.#h.connect(to.addr, to.port));
  }

  localAddress(): Promise<Endpoint> {
    return attempt(() => this.localAddressNow());
  }

  close(): void {
    this.#h.close();
    const err = new ErrnoError("EBADF", "socket closed");
    for (const r of this.#receivers.splice(0)) r.reject(err);
  }

  /** After a turn that queued datagrams (or an error): hand them to waiting receivers. */
  #deliver(): void {
    while (this.#receivers.length > 0) {
      const r = this.#receivers[0];
      let d: Uint8Array | null;
      try {
        d = this.#h.receive(r.from);
      } catch (e) {
        this.#receivers.shift();
        r.reject(e);
        continue;
      }
      if (d === null) return;
      this.#receivers.shift();
      r.resolve(d);
    }
  }
}

function attempt<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e);
  }
}
