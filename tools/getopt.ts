/**
 * POSIX getopt(3) as the BSD tools and io-pkt use it: clustered flags (`-an`),
 * arguments attached or in the next word (`-ptcpip`, `-p tcpip`), `--` ends
 * options, the first operand ends options. One extension serves io-pkt's
 * `-d`/`-p`: for letters listed in `trailingWord`, the *next* word is taken as a
 * second argument when it does not start with `-`.
 *
 * @example
 * ```ts
 * import { getopt } from "./getopt.ts";
 * const r = getopt(["-ptcpip", "prefix=/a", "-i1"], "p:i:", { trailingWord: "p" });
 * if (r.ok) console.log(r.opts); // [{opt:"p",arg:"tcpip",extra:"prefix=/a"},{opt:"i",arg:"1"}]
 * ```
 * @module
 */

/** One parsed option. */
export interface ParsedOpt {
  opt: string;
  /** The option's argument, for letters followed by `:` in the spec. */
  arg?: string;
  /** The trailing word taken for `trailingWord` letters, when there was one. */
  extra?: string;
}

/** The outcome of parsing. */
export type GetoptResult =
  | { ok: true; opts: ParsedOpt[]; operands: string[] }
  | { ok: false; kind: "unknown" | "missing"; opt: string };

/** Options for {@linkcode getopt}. */
export interface GetoptOptions {
  /** Letters whose argument may be followed by an optional word not starting with `-`. */
  trailingWord?: string;
}

/**
 * Parses `args` against a getopt spec such as `"ab:c"` (b takes an argument).
 */
export function getopt(args: string[], spec: string, options: GetoptOptions = {}): GetoptResult {
  const takesArg = new Map<string, boolean>();
  for (let i = 0; i < spec.length; i++) {
    if (spec[i] === ":") continue;
    takesArg.set(spec[i], spec[i + 1] === ":");
  }
  const trailing = options.trailingWord ?? "";
  const opts: ParsedOpt[] = [];
  let i = 0;
  for (; i < args.length; i++) {
    const word = args[i];
    if (word === "--") {
      i++;
      break;
    }
    if (!word.startsWith("-") || word === "-") break;
    for (let j = 1; j < word.length; j++) {
      const letter = word[j];
      const needs = takesArg.get(letter);
      if (needs === undefined) return { ok: false, kind: "unknown", opt: letter };
      if (!needs) {
        opts.push({ opt: letter });
        continue;
      }
      let arg: string;
      if (j + 1 < word.length) arg = word.slice(j + 1);
      else if (i + 1 < args.length) arg = args[++i];
      else return { ok: false, kind: "missing", opt: letter };
      const parsed: ParsedOpt = { opt: letter, arg };
      if (trailing.includes(letter) && i + 1 < args.length && !args[i + 1].startsWith("-")) {
        parsed.extra = args[++i];
      }
      opts.push(parsed);
      break;
    }
  }
  return { ok: true, opts, operands: args.slice(i) };
}

/** The BSD message for a getopt failure: `tool: unknown option -- x`. */
export function getoptMessage(
  tool: string,
  r: { kind: "unknown" | "missing"; opt: string },
): string {
  return r.kind === "unknown"
    ? `${tool}: unknown option -- ${r.opt}\n`
    : `${tool}: option requires an argument -- ${r.opt}\n`;
}
