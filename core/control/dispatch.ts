/**
 * Answers control requests: checks each request's fields, enforces privilege,
 * and maps it onto the {@linkcode Stack}. Every failure becomes an errno reply;
 * nothing a client sends can throw past this function.
 *
 * @example
 * ```ts
 * import { Stack } from "../stack.ts";
 * import { handleRequest } from "./dispatch.ts";
 * const stack = new Stack({ inet6: false });
 * const reply = await handleRequest(stack, { op: "ifList" }, { privileged: true });
 * console.log(reply.ok); // true
 * ```
 * @module
 */

import { ErrnoError } from "../errno.ts";
import { type Stack, stackCore } from "../stack.ts";
import type { AddrSpec, ControlReply, ControlRequest, RouteSpec, SocketEvent } from "./ops.ts";
import { OP_CHANGES_CONFIG } from "./ops.ts";
import { fromBase64, toBase64 } from "./base64.ts";
import { flattenProtoCounters } from "../stats.ts";
import { socketList } from "./socket_list.ts";

/** The connection that owns sockets: where their datagrams go, and which are its own. */
export interface SocketOwner {
  readonly sockets: Set<number>;
  emit(event: SocketEvent): void;
}

/** Who is asking. */
export interface RequestContext {
  /** May change configuration (root on the `config` socket, or any client of an unprivileged daemon). */
  privileged: boolean;
  /** The asking connection, for socket requests; without one, sockets cannot be opened. */
  owner?: SocketOwner;
}

function ownedSocket(ctx: RequestContext, v: unknown): number {
  const sock = int(v, "sock");
  if (!ctx.owner?.sockets.has(sock)) throw new ErrnoError("EBADF", "socket");
  return sock;
}

function bad(what: string): never {
  throw new ErrnoError("EINVAL", what);
}

function str(v: unknown, what: string, max = 1024): string {
  if (typeof v !== "string" || v.length > max) bad(what);
  return v;
}

function optStr(v: unknown, what: string): string | undefined {
  return v === undefined ? undefined : str(v, what);
}

function int(v: unknown, what: string): number {
  if (typeof v !== "number" || !Number.isSafeInteger(v)) bad(what);
  return v;
}

function optInt(v: unknown, what: string): number | undefined {
  return v === undefined ? undefined : int(v, what);
}

const INET6_FLAGS = new Set(["anycast", "tentative", "duplicated", "detached", "deprecated"]);

function addrSpec(v: unknown): AddrSpec {
  if (typeof v !== "object" || v === null) bad("address");
  const s = v as Record<string, unknown>;
  if (s.family === "inet") {
    return {
      family: "inet",
      addr: str(s.addr, "address"),
      netmask: optStr(s.netmask, "netmask"),
      broadcast: optStr(s.broadcast, "broadcast"),
      dst: optStr(s.dst, "destination"),
    };
  }
  if (s.family === "inet6") {
    const flags = s.flags ?? [];
    if (!Array.isArray(flags) || !flags.every((f) => INET6_FLAGS.has(f))) bad("inet6 flags");
    return {
      family: "inet6",
      addr: str(s.addr, "address"),
      prefixlen: optInt(s.prefixlen, "prefixlen"),
      dst: optStr(s.dst, "destination"),
      flags,
      pltime: optInt(s.pltime, "pltime"),
      vltime: optInt(s.vltime, "vltime"),
    };
  }
  throw new ErrnoError("EAFNOSUPPORT", "address family");
}

function prefixlen(v: unknown): number | null {
  return v === null ? null : int(v, "prefixlen");
}

function optBool(v: unknown, what: string): boolean | undefined {
  if (v !== undefined && typeof v !== "boolean") bad(what);
  return v;
}

function routeSpec(v: unknown): RouteSpec {
  if (typeof v !== "object" || v === null) bad("route");
  const s = v as Record<string, unknown>;
  return {
    family: family(s.family),
    dst: str(s.dst, "destination"),
    prefixlen: prefixlen(s.prefixlen),
    gateway: optStr(s.gateway, "gateway"),
    ifname: optStr(s.ifname, "interface"),
    reject: optBool(s.reject, "reject"),
    blackhole: optBool(s.blackhole, "blackhole"),
    mtu: optInt(s.mtu, "mtu"),
    flags: optInt(s.flags, "flags"),
    nostatic: optBool(s.nostatic, "nostatic"),
    linkGateway: optStr(s.linkGateway, "gateway"),
  };
}

function family(v: unknown): "inet" | "inet6" {
  if (v === "inet" || v === "inet6") return v;
  throw new ErrnoError("EAFNOSUPPORT", "address family");
}

async function perform(stack: Stack, req: ControlRequest, ctx: RequestContext): Promise<unknown> {
  // Fields are re-read through the checkers: the request came off a socket.
  const r = req as unknown as Record<string, unknown>;
  switch (req.op) {
    case "info":
      return stack.info();
    case "ifList":
      return stack.ifInfo(optStr(r.name, "name"));
    case "ifCreate":
      return await stack.createInterface(str(r.name, "name"));
    case "ifDestroy":
      stack.destroyInterface(str(r.name, "name"));
      return {};
    case "ifSet": {
      const name = str(r.name, "name");
      const set = optInt(r.flagsSet, "flags") ?? 0;
      const clear = optInt(r.flagsClear, "flags") ?? 0;
      const mtu = optInt(r.mtu, "mtu");
      const metric = optInt(r.metric, "metric");
      const linkstr = optStr(r.linkstr, "linkstr");
      stack.ifInfo(name); // ENXIO before any change when there is no such interface
      if (linkstr !== undefined) stack.setLinkStr(name, linkstr);
      if (mtu !== undefined) stack.setMtu(name, mtu);
      if (metric !== undefined) stack.setMetric(name, metric);
      return stack.setFlags(name, set, clear);
    }
    case "ifZeroStats":
      stack.zeroStats(str(r.name, "name"));
      return {};
    case "addrAdd":
      return stack.addAddress(str(r.name, "name"), addrSpec(r.spec));
    case "addrDelete":
      return stack.deleteAddress(str(r.name, "name"), family(r.family), optStr(r.addr, "address"));
    case "clonerList":
      return stack.clonerNames();
    case "routeList":
      return stack.routeInfo();
    case "sysctlList":
      return stack.sysctl.list();
    case "sysctlSet":
      return stack.sysctl.set(str(r.name, "name"), str(r.value, "value"));
    case "stats":
      return flattenProtoCounters(stack.stats);
    case "sockList":
      return socketList(stackCore(stack));
    case "mount":
      return {
        interfaces: await stack.mount(
          str(r.type, "type"),
          str(r.module, "module"),
          str(r.options ?? "", "options"),
        ),
      };
    case "routeAdd":
      return stack.addRoute(routeSpec(r.route));
    case "routeChange":
      return stack.changeRoute(routeSpec(r.route));
    case "routeDelete":
      return stack.deleteRoute(
        family(r.family),
        str(r.dst, "destination"),
        prefixlen(r.prefixlen),
      );
    case "routeGet":
      return stack.getRoute(family(r.family), str(r.dst, "destination"));
    case "routeFlush":
      return stack.flushRoutes(r.family === undefined ? undefined : family(r.family));
    case "neighborList":
      return stack.neighborList(family(r.family));
    case "neighborSet":
      return stack.neighborSet(family(r.family), str(r.addr, "address"), str(r.lladdr, "lladdr"), {
        temp: optBool(r.temp, "temp") ?? false,
        pub: optBool(r.pub, "pub") ?? false,
      });
    case "neighborDelete":
      return stack.neighborDelete(family(r.family), str(r.addr, "address"));
    case "neighborFlush":
      return stack.neighborFlush(family(r.family));
    case "sockOpen": {
      const owner = ctx.owner;
      if (!owner) throw new ErrnoError("ENOTSOCK", "no connection to own the socket");
      if (r.type !== "raw") throw new ErrnoError("ESOCKTNOSUPPORT", "socket type");
      const sock = stack.openRawSocket(
        family(r.domain),
        int(r.proto, "proto"),
        (d) =>
          owner.emit({ sock, from: d.from, data: toBase64(d.data), ttl: d.ttl, ifname: d.ifname }),
      );
      owner.sockets.add(sock);
      return { sock };
    }
    case "sockSendTo": {
      const sock = ownedSocket(ctx, r.sock);
      const data = fromBase64(str(r.data, "data", 200_000)) ?? bad("data");
      const sent = stack.sendRaw(sock, str(r.addr, "address"), data, {
        ttl: optInt(r.ttl, "ttl"),
        src: optStr(r.src, "source"),
        ifname: optStr(r.ifname, "interface"),
        nexthop: optStr(r.nexthop, "next hop"),
        minMtu: optInt(r.minmtu, "minmtu"),
      });
      return { sent };
    }
    case "sockClose": {
      const sock = ownedSocket(ctx, r.sock);
      stack.closeRawSocket(sock);
      ctx.owner!.sockets.delete(sock);
      return {};
    }
    case "lladdrAdd":
      return stack.linkAddressAdd(
        str(r.name, "name"),
        str(r.lladdr, "lladdr"),
        optBool(r.active, "active") ?? false,
      );
    case "lladdrDelete":
      return stack.linkAddressDelete(str(r.name, "name"), str(r.lladdr, "lladdr"));
    case "lladdrList":
      return stack.linkAddressList(optStr(r.name, "name"));
    default: {
      const never: never = req;
      throw new ErrnoError("ENOSYS", String((never as { op: unknown }).op));
    }
  }
}

/** Answers one request; never throws. */
export async function handleRequest(
  stack: Stack,
  req: ControlRequest,
  ctx: RequestContext,
): Promise<ControlReply> {
  try {
    if (OP_CHANGES_CONFIG[req.op] && !ctx.privileged) throw new ErrnoError("EPERM", req.op);
    return { ok: true, result: await perform(stack, req, ctx) };
  } catch (e) {
    if (e instanceof ErrnoError) return { ok: false, errno: e.code, message: e.message };
    stack.log(
      `control: ${req.op} failed: ${e instanceof Error ? e.stack ?? e.message : String(e)}`,
    );
    return { ok: false, errno: "EIO", message: "internal error" };
  }
}
