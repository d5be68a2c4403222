/**
 * `sysctl`: NetBSD's sysctl(8) (the 4.x-era one QNX ships) over the control
 * socket.
 *
 * ```
 * sysctl [-dne] [-x[x]|-r] name...     sysctl [-ne] [-q] -w name=value...
 * sysctl [-dne] -a    sysctl [-dne] -A    sysctl [-ne] -M    sysctl [-dne] [-q] -f file
 * ```
 *
 * The tool fetches the whole MIB with one `sysctlList` request and resolves
 * names itself, as NetBSD's libc learns the tree with CTL_QUERY; writes go
 * out one `sysctlSet` each. Messages, their streams and the exit codes follow
 * NetBSD's sysctl.c; where NetBSD releases differ, the reference (§5.5) decides.
 *
 * Not supported, each with a message and exit 1 rather than a fake: `-r`/`-b`
 * (raw binary output; a tool writes text), `-M` (the MIB dump needs the MIB
 * numbers and flags, which the control protocol does not carry), and creating
 * or destroying nodes (`//create=...`).
 *
 * @example
 * ```ts ignore
 * import { runTool } from "./run_tool.ts";
 * import { sysctlMain } from "./sysctl.ts";
 * await runTool("sysctl", sysctlMain); // sysctl -w net.inet.ip.forwarding=1
 * ```
 * @module
 */

import { ErrnoError, strerror } from "../core/errno.ts";
import { parseSysctlInt } from "../core/sysctl.ts";
import type { SysctlNodeInfo } from "../core/control/ops.ts";
import { getopt, getoptMessage } from "./getopt.ts";
import type { ControlClient, ToolContext } from "./tool_context.ts";

/** Options for {@linkcode sysctlMain}, for tests and embedders. */
export interface SysctlMainOptions {
  /** Reads the `-f` file; default `Deno.readTextFile`. */
  readTextFile?: (path: string) => Promise<string>;
}

const USAGE = [
  "[-dne] [-x[x]|-r] variable ...",
  "[-ne] [-q] -w variable=value ...",
  "[-dne] -a",
  "[-dne] -A",
  "[-ne] -M",
  "[-dne] [-q] -f file",
];

/** sysctl.c's lname[]: the word for a component's position. */
const LEVEL_NAMES = [
  "top",
  "second",
  "third",
  "fourth",
  "fifth",
  "sixth",
  "seventh",
  "eighth",
  "ninth",
  "tenth",
  "eleventh",
  "twelfth",
];

/** The client side of the MIB, rebuilt from the flat list. */
interface MibNode {
  /** Last component. */
  name: string;
  /** Full dotted name, as the stack knows it. */
  full: string;
  info: SysctlNodeInfo;
  children: MibNode[];
}

/** Thrown to end the run with a code (NetBSD's exit()). */
class Exit {
  constructor(readonly code: number) {}
}

const DISPLAY_VALUE = 0;
const DISPLAY_OLD = 1;
const DISPLAY_NEW = 2;
type Display = typeof DISPLAY_VALUE | typeof DISPLAY_OLD | typeof DISPLAY_NEW;

/** The flags, the way sysctl.c keeps them. */
interface Flags {
  A: boolean;
  a: boolean;
  d: boolean;
  M: boolean;
  n: boolean;
  q: boolean;
  r: boolean;
  w: boolean;
  /** Counted: -xx hex-dumps. */
  x: number;
  eq: string;
  file?: string;
}

/**
 * Runs `sysctl` with `args`; returns the exit code.
 *
 * @example
 * ```ts ignore
 * const code = await sysctlMain(["-w", "net.inet.ip.forwarding=1"], ctx);
 * // stdout: net.inet.ip.forwarding: 0 -> 1
 * ```
 */
export async function sysctlMain(
  args: string[],
  ctx: ToolContext,
  options: SysctlMainOptions = {},
): Promise<number> {
  const usage = () => {
    const lines = USAGE.map((u, i) => `${i === 0 ? "usage:" : ""}\t${ctx.name} ${u}\n`);
    ctx.stderr(lines.join(""));
    return 1;
  };
  const g = getopt(args, "Aabdef:Mnqrwx");
  if (!g.ok) {
    ctx.stderr(getoptMessage(ctx.name, g));
    return usage();
  }
  const f: Flags = {
    A: false,
    a: false,
    d: false,
    M: false,
    n: false,
    q: false,
    r: false,
    w: false,
    x: 0,
    eq: " = ",
  };
  for (const o of g.opts) {
    switch (o.opt) {
      case "e":
        f.eq = "=";
        break;
      case "f":
        f.file = o.arg;
        f.w = true;
        break;
      case "b": // FreeBSD's spelling of -r
        f.r = true;
        break;
      case "x":
        f.x++;
        break;
      case "A":
      case "a":
      case "d":
      case "M":
      case "n":
      case "q":
      case "r":
      case "w":
        f[o.opt] = true;
        break;
    }
  }
  const operands = g.operands;
  if (f.x && f.r) return usage();
  // 4.x: -q only quiets writes, so it needs -w.
  if (f.q && !f.w) return usage();
  if ((f.A || f.M || f.d) && operands.length === 0 && f.file === undefined) f.a = true;
  if (!f.a && f.file === undefined && operands.length === 0) return usage();
  if (f.r) {
    ctx.stderr(`${ctx.name}: -r: raw binary output is not supported\n`);
    return 1;
  }
  if (f.M) {
    ctx.stderr(`${ctx.name}: -M: the MIB dump is not supported\n`);
    return 1;
  }

  let text: string | undefined;
  if (f.file !== undefined && !f.a) {
    try {
      text = await (options.readTextFile ?? Deno.readTextFile)(f.file);
    } catch (e) {
      ctx.stderr(`${ctx.name}: ${f.file}: ${fileErrorText(e)}\n`);
      return 1;
    }
  }

  let client: ControlClient;
  try {
    client = await ctx.connect();
  } catch (e) {
    ctx.stderr(`${ctx.name}: socket: ${e instanceof Error ? e.message : String(e)}\n`);
    return 1;
  }
  try {
    let list: SysctlNodeInfo[];
    try {
      list = await client.call({ op: "sysctlList" });
    } catch (e) {
      ctx.stderr(`${ctx.name}: ${errorText(e)}\n`);
      return 1;
    }
    const run = new SysctlRun(ctx, f, client, buildTree(list));
    try {
      if (f.a) run.printAll();
      else if (text !== undefined) await run.parseFile(text);
      else for (const arg of operands) await run.parse(arg);
    } catch (e) {
      if (e instanceof Exit) return e.code;
      throw e;
    }
    return run.errors ? 1 : 0;
  } finally {
    client.close();
  }
}

/** Nests the flat list (parents come before children) under a root node. */
function buildTree(list: SysctlNodeInfo[]): MibNode {
  const root: MibNode = {
    name: "",
    full: "",
    info: { name: "", type: "node", readonly: true, desc: "" },
    children: [],
  };
  const byName = new Map<string, MibNode>([["", root]]);
  const parentOf = (full: string): MibNode => {
    const existing = byName.get(full);
    if (existing) return existing;
    // A stack that lists a child without its parent: make the parent up.
    const dot = full.lastIndexOf(".");
    const made: MibNode = {
      name: full.slice(dot + 1),
      full,
      info: { name: full, type: "node", readonly: true, desc: "" },
      children: [],
    };
    parentOf(dot < 0 ? "" : full.slice(0, dot)).children.push(made);
    byName.set(full, made);
    return made;
  };
  for (const info of list) {
    const dot = info.name.lastIndexOf(".");
    const parent = parentOf(dot < 0 ? "" : info.name.slice(0, dot));
    const n: MibNode = { name: info.name.slice(dot + 1), full: info.name, info, children: [] };
    parent.children.push(n);
    byName.set(info.name, n);
  }
  return root;
}

/** One invocation's state: sysctl.c's globals. */
class SysctlRun {
  /** Messages that sysctl.c sends to `warnfp`: stderr, or stdout under -A. */
  #warn: (s: string) => void;
  #out: (s: string) => void;
  #ctx: ToolContext;
  #f: Flags;
  #client: ControlClient;
  #root: MibNode;
  /** The separator of the name being handled: `.` or `/`. */
  #sep = ".";
  /** Set while handling a name given by the user; cleared when walking below it. */
  #req = false;
  /** The -f line number (fparseln's count of physical lines). */
  #line = 0;
  /** A write happened: values read from the list may be out of date. */
  #stale = false;
  /** Errors reported (sysctl.c's `errs`): the exit code is 1 when any. */
  errors = 0;

  constructor(ctx: ToolContext, f: Flags, client: ControlClient, root: MibNode) {
    this.#ctx = ctx;
    this.#f = f;
    this.#client = client;
    this.#root = root;
    this.#out = (s) => ctx.stdout(s);
    this.#warn = f.A ? this.#out : (s) => ctx.stderr(s);
  }

  /** -a / -A: the whole tree. */
  printAll(): void {
    this.#req = false;
    for (const c of this.#root.children) this.#printTree(c, c.name, true);
  }

  /** -f: every logical line of the file, read as fparseln(3) reads it. */
  async parseFile(text: string): Promise<void> {
    const lines = text.split("\n");
    if (lines[lines.length - 1] === "") lines.pop(); // the last newline ends a line
    let i = 0;
    while (i < lines.length) {
      let buf: string | null = null;
      let more = true;
      while (more) {
        more = false;
        if (i >= lines.length) break;
        this.#line++;
        let s = lines[i++];
        const hash = unescapedIndex(s, "#");
        if (hash >= 0) {
          s = s.slice(0, hash);
          more = s.length === 0 && buf === null; // a comment line joins nothing
        }
        if (s.length > 0 && s.endsWith("\\") && !isEscaped(s, s.length - 1)) {
          s = s.slice(0, -1);
          more = true;
        }
        if (s.length === 0 && buf !== null) continue;
        buf = (buf ?? "") + s;
      }
      if (buf === null) break;
      if (buf !== "") await this.parse(buf);
    }
  }

  /** One `name` or `name=value`: sysctl.c's parse(). */
  async parse(l: string): Promise<void> {
    this.#req = true;
    if (this.#stale) {
      // As sysctl.c purges its learned tree: a later read must see the write.
      this.#stale = false;
      try {
        this.#root = buildTree(await this.#client.call({ op: "sysctlList" }));
      } catch (e) {
        this.#fatal(errorText(e));
      }
    }
    const eqAt = l.indexOf("=");
    let key = eqAt < 0 ? l : l.slice(0, eqAt);
    let value = eqAt < 0 ? undefined : l.slice(eqAt + 1);
    const dot = /[./]/.exec(key);
    this.#sep = dot ? dot[0] : ".";
    const sep = this.#sep;
    let describe = false;

    if (key[0] === sep && key[1] === sep) {
      const rest = l.slice(2);
      const word = (w: string) =>
        rest.startsWith(w) && (rest[w.length] === "=" || rest[w.length] === sep);
      const after = (w: string) => rest.slice(w.length + (rest[w.length] === "=" ? 1 : 0));
      if (word("create")) return this.#unsupported("create", after("create").split(",")[0]);
      if (word("destroy")) return this.#unsupported("destroy", after("destroy"));
      if (!word("describe")) {
        this.#perror(`unable to parse '${l}'`);
        return;
      }
      key = after("describe");
      if (key.includes("=")) {
        if (!this.#f.w) this.#fatal("Must specify -w to set descriptions");
        const name = key.slice(0, key.indexOf("="));
        const r = this.#resolve(name);
        if (!r.ok) return this.#parseError(r, name);
        this.#perror(`${r.gsname}: CTL_DESCRIBE failed: ${strerror("EOPNOTSUPP")}`);
        return;
      }
      describe = !this.#f.d;
      value = undefined;
      const d = /[./]/.exec(key);
      this.#sep = d ? d[0] : ".";
    }

    const r = this.#resolve(key);
    if (!r.ok) return this.#parseError(r, key);
    const n = r.node;
    const type = n.info.type;

    if (value === undefined) {
      if (describe) this.#f.d = true;
      this.#printTree(n, r.gsname, false);
      if (describe) this.#f.d = false;
      return;
    }
    if (this.#f.file !== undefined) value = value.trimStart();
    if (!this.#f.w) this.#fatal("Must specify -w to set variables");

    switch (type) {
      case "node":
        // sysctl.c prints the subtree, re-adding the node's own name to the
        // already complete one ("net.inet.tcp.tcp.rfc1323 = 1"); kept as is.
        this.#printTree(n, r.gsname + (r.depth > 1 ? sep : "") + n.name, true);
        return;
      case "struct":
        this.#printTree(n, r.gsname, false);
        return;
      case "string":
        return await this.#writeString(n, r.gsname, value);
      default:
        return await this.#writeNumber(n, r.gsname, value);
    }
  }

  /** sysctlgetmibinfo(3) on the learned tree. */
  #resolve(
    key: string,
  ):
    | { ok: true; node: MibNode; gsname: string; depth: number }
    | { ok: false; depth: number; token: string } {
    const sep = this.#sep;
    let rest = key;
    let gsname = "";
    if (rest[0] === sep) {
      gsname = sep;
      rest = rest.slice(1);
    }
    let cur = this.#root;
    let depth = 0;
    let piece: string | null = rest;
    while (piece !== null && piece !== "") {
      const at = piece.indexOf(sep);
      const token = at < 0 ? piece : piece.slice(0, at);
      if (cur.info.type !== "node") return { ok: false, depth, token };
      const next = cur.children.find((c) => c.name === token);
      if (!next) return { ok: false, depth, token };
      cur = next;
      gsname += (depth > 0 ? sep : "") + cur.name;
      piece = at < 0 ? null : piece.slice(at + 1);
      depth++;
    }
    if (depth === 0) return { ok: false, depth: 0, token: "" };
    return { ok: true, node: cur, gsname, depth };
  }

  /** sysctlparseerror(): silent under -q, fatal outside -f either way. */
  #parseError(r: { depth: number; token: string }, key: string): void {
    if (this.#f.q) this.errors++;
    else {
      const level = LEVEL_NAMES[Math.min(r.depth, LEVEL_NAMES.length - 1)];
      this.#perror(`${level} level name '${r.token}' in '${key}' is invalid`);
    }
    this.#failed();
  }

  /** print_tree(): `name` is the node's printed name; `add` is false for a name asked for. */
  #printTree(n: MibNode, name: string, add: boolean): void {
    const f = this.#f;
    const type = n.info.type;
    if (f.d) {
      if (f.A || type !== "node") {
        const desc = n.info.desc;
        if (f.A || !add || desc !== "") {
          this.#out(`${f.n ? "" : `${name}: `}${desc === "" ? "(no description)" : desc}\n`);
        }
      }
      if (type !== "node") return;
    }
    // An alias prints only when named: that keeps net.inet6.udp6.do_loopback_cksum,
    // which shares net.inet.udp's variable, out of `sysctl -a`.
    if (n.info.alias !== undefined && add) return;
    switch (type) {
      case "node":
        if (n.children.length === 0) {
          if (!f.d && (f.A || this.#req)) this.#out(`${name}: no children\n`);
          return;
        }
        this.#req = false;
        for (const c of n.children) this.#printTree(c, name + this.#sep + c.name, true);
        return;
      case "struct":
        return this.#printOther(n, name);
      case "string":
        return this.#displayString(name, String(n.info.value ?? ""), DISPLAY_VALUE);
      default:
        return this.#displayNumber(name, Number(n.info.value ?? 0), DISPLAY_VALUE);
    }
  }

  /**
   * A table: only when asked for by name or under -A, say which tool shows it
   * (sysctl.c's handler table); tables it has no handler for are "unknown".
   * The hint has no program prefix and is not an error, as in NetBSD 4.
   */
  #printOther(n: MibNode, name: string): void {
    if (!(this.#f.A || this.#req)) return;
    const full = n.full;
    if (!full.startsWith("net.")) {
      if (!this.#f.q) this.#warn(`${name}: this type is unknown to this program\n`);
      return;
    }
    const tool = /^net\.inet6\.icmp6\.nd6_[dp]rlist$/.test(full) ? "ndp" : "netstat";
    this.#warn(`${name}: use '${tool}' to view this information\n`);
  }

  async #writeNumber(n: MibNode, gsname: string, text: string): Promise<void> {
    const value = this.#f.file !== undefined ? text.trim() : text;
    const r = parseSysctlInt(value);
    if (!r.ok) {
      this.#perror(`${value}: ${r.error === "nan" ? "not a number" : strerror("ERANGE")}`);
      return this.#failed();
    }
    const res = await this.#set(n, gsname, String(r.value));
    if (!res) return;
    this.#displayNumber(gsname, Number(res.old), DISPLAY_OLD);
    this.#displayNumber(gsname, r.value, DISPLAY_NEW);
  }

  async #writeString(n: MibNode, gsname: string, value: string): Promise<void> {
    const res = await this.#set(n, gsname, value);
    if (!res) return;
    this.#displayString(gsname, String(res.old), DISPLAY_OLD);
    this.#displayString(gsname, value, DISPLAY_NEW);
  }

  /** One sysctlSet; an error reply is sysctlerror(0): reported, then fatal outside -f. */
  async #set(
    n: MibNode,
    gsname: string,
    value: string,
  ): Promise<{ old: number | string; new: number | string } | null> {
    try {
      const res = await this.#client.call({ op: "sysctlSet", name: n.full, value });
      this.#stale = true;
      return res;
    } catch (e) {
      this.#perror(`${gsname}: ${errorText(e)}`);
      this.#failed();
      return null;
    }
  }

  #displayNumber(name: string, v: number, mode: Display): void {
    const f = this.#f;
    if (f.q || (f.n && mode === DISPLAY_OLD)) return;
    let s = this.#label(name, mode);
    const bytes = new Uint8Array(4);
    new DataView(bytes.buffer).setInt32(0, v, true); // QNX targets are little-endian
    if (f.x > 1) {
      this.#out(s + (mode !== DISPLAY_NEW ? "\n" : "") + hexDump(bytes));
      return;
    }
    s += f.x ? "0x" + (v >>> 0).toString(16).padStart(8, "0") : String(v);
    this.#out(s + (mode === DISPLAY_OLD ? " -> " : "\n"));
  }

  #displayString(name: string, v: string, mode: Display): void {
    const f = this.#f;
    if (f.q || (f.n && mode === DISPLAY_OLD)) return;
    let s = this.#label(name, mode);
    // The kernel hands strings out with their NUL.
    const enc = new TextEncoder().encode(v);
    const bytes = new Uint8Array(enc.length + 1);
    bytes.set(enc);
    if (f.x > 1) {
      this.#out(s + (mode !== DISPLAY_NEW ? "\n" : "") + hexDump(bytes));
      return;
    }
    if (f.x) {
      for (const b of bytes) {
        s += b.toString(16).padStart(2, "0");
        if (b === 0) break;
      }
    } else s += v;
    this.#out(s + (mode === DISPLAY_OLD ? " -> " : "\n"));
  }

  #label(name: string, mode: Display): string {
    if (this.#f.n) return "";
    if (mode === DISPLAY_VALUE) return name + this.#f.eq;
    return mode === DISPLAY_OLD ? `${name}: ` : "";
  }

  #unsupported(what: "create" | "destroy", name: string): void {
    if (!this.#f.w) this.#fatal(`Must specify -w to ${what} nodes`);
    const op = what === "create" ? "CTL_CREATE" : "CTL_DESTROY";
    this.#perror(`${name}: ${op} failed: ${strerror("EOPNOTSUPP")}`);
    this.#failed();
  }

  /** sysctlperror(): `sysctl: [file#line: ]message`, counted. */
  #perror(msg: string): void {
    const where = this.#f.file !== undefined ? `${this.#f.file}#${this.#line}: ` : "";
    this.#warn(`${this.#ctx.name}: ${where}${msg}\n`);
    this.errors++;
  }

  /** sysctl.c's EXIT(1): ends the run, except under -f where the next line goes on. */
  #failed(): void {
    if (this.#f.file === undefined) throw new Exit(1);
  }

  /** A message and exit(1), -f or not. */
  #fatal(msg: string): never {
    this.#perror(msg);
    throw new Exit(1);
  }
}

/** Whether `s[i]` is preceded by an odd number of backslashes. */
function isEscaped(s: string, i: number): boolean {
  let n = 0;
  while (i - n - 1 >= 0 && s[i - n - 1] === "\\") n++;
  return n % 2 === 1;
}

function unescapedIndex(s: string, ch: string): number {
  for (let i = 0; i < s.length; i++) if (s[i] === ch && !isEscaped(s, i)) return i;
  return -1;
}

/** sysctl.c's hex_dump(): 16 bytes a line, offset, hex, printable text, then the count. */
function hexDump(bytes: Uint8Array): string {
  let out = "";
  let line: string[] = [];
  const blank = () => Array<string>(78).fill(" ");
  for (let i = 0; i < bytes.length; i++) {
    const j = i % 16;
    if (j === 0) {
      line = blank();
      line[58] = "|";
      line[77] = "|";
      const off = i.toString(16).padStart(7, "0");
      for (let k = 0; k < 7; k++) line[k] = off[k];
    }
    const hex = bytes[i].toString(16).padStart(2, "0");
    line[9 + j * 3] = hex[0];
    line[10 + j * 3] = hex[1];
    line[60 + j] = bytes[i] >= 0x20 && bytes[i] < 0x7f ? String.fromCharCode(bytes[i]) : ".";
    if (j === 15) {
      out += line.join("") + "\n";
      line = [];
    }
  }
  if (line.length) out += line.join("") + "\n";
  return out + `${String(bytes.length).padStart(7, "0")} bytes\n`;
}

/** strerror() of an error reply; other failures by their message. */
function errorText(e: unknown): string {
  if (e instanceof ErrnoError) return strerror(e.code);
  return e instanceof Error ? e.message : String(e);
}

/** What err(1, "%s", file) would say after a failed fopen. */
function fileErrorText(e: unknown): string {
  if (e instanceof ErrnoError) return strerror(e.code);
  if (e instanceof Error) {
    if (e.name === "NotFound") return strerror("ENOENT");
    if (e.name === "PermissionDenied" || e.name === "NotCapable") return strerror("EACCES");
  }
  return e instanceof Error ? e.message : String(e);
}
