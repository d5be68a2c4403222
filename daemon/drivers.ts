/**
 * Loads driver modules into a stack: `-d NAME`, `mount -T io-pkt MODULE` and
 * `ifconfig NAMEn create` all come here.
 *
 * `NAME` without a `/` is `drivers/devnp-NAME.ts` of this checkout; a path is
 * imported as it is. QNX's DLL names are understood: `devnp-NAME.so` (bare, or
 * as a path that does not exist here, like `/lib/dll/devnp-e1000.so`) means
 * `drivers/devnp-NAME.ts`. The stack takes the generic options first; failures
 * are logged as io-pkt logs them (`Unable to load ...` / `Unable to init ...`)
 * and the stack lives on. A load whose interfaces are all destroyed is unloaded.
 *
 * @example
 * ```ts ignore
 * const drivers = new DriverManager(stack, log);
 * await drivers.registerCloners();
 * await drivers.load("dummy", "name=en,mac=02:00:00:00:00:01");
 * ```
 * @module
 */

import { ErrnoError, strerror } from "../core/errno.ts";
import type {
  AttachedInterface,
  DriverModule,
  InterfaceSpec,
  ReaderPoolRef,
} from "../core/link/driver.ts";
import {
  pcapPathFor,
  splitWrapOptions,
  wrapInterface,
  type WrapOptions,
} from "../drivers/wrap/options.ts";
import { splitGenericDriverOptions } from "../core/link/if_naming.ts";
import type { Stack } from "../core/stack.ts";
import type { LogFn } from "./log.ts";

const DRIVER_DIR = new URL("../drivers/", import.meta.url);

/** Where a module name points: a URL to import and the name to log. */
export function resolveDriver(module: string): { url: URL; label: string } {
  const base = module.slice(module.lastIndexOf("/") + 1);
  const dll = /^devnp-([A-Za-z0-9_.-]+)\.so$/.exec(base);
  if (!module.includes("/")) {
    const name = dll ? dll[1] : module;
    return { url: new URL(`devnp-${name}.ts`, DRIVER_DIR), label: `devnp-${name}.so` };
  }
  let exists = true;
  try {
    Deno.statSync(module);
  } catch {
    exists = false;
  }
  if (!exists && dll) return { url: new URL(`devnp-${dll[1]}.ts`, DRIVER_DIR), label: base };
  const path = module.startsWith("/") ? module : `${Deno.cwd()}/${module}`;
  return { url: new URL(`file://${path}`), label: module };
}

function isDriverModule(v: unknown): v is DriverModule {
  if (typeof v !== "object" || v === null) return false;
  const d = v as Record<string, unknown>;
  return typeof d.defaultPrefix === "string" && typeof d.cloneable === "boolean" &&
    typeof d.attach === "function";
}

/** Loads drivers into one stack and tracks what each load attached. */
export class DriverManager {
  #stack: Stack;
  #log: LogFn;
  #readerPool: ReaderPoolRef | undefined;

  /** @param readerPool the reader threads (`-t`) handed to every driver */
  constructor(stack: Stack, log: LogFn, readerPool?: ReaderPoolRef) {
    this.#stack = stack;
    this.#log = log;
    this.#readerPool = readerPool;
    stack.moduleLoader = (module, options) => this.load(module, options);
  }

  /** Registers a cloner for every cloneable driver shipped in `drivers/`. */
  async registerCloners(): Promise<void> {
    const names: string[] = [];
    try {
      for (const entry of Deno.readDirSync(DRIVER_DIR)) {
        const m = /^devnp-(.+)\.ts$/.exec(entry.name);
        if (m) names.push(m[1]);
      }
    } catch (e) {
      this.#log(
        `drivers: cannot list ${DRIVER_DIR.pathname}: ${e instanceof Error ? e.message : e}`,
      );
    }
    for (const name of names.sort()) {
      const mod = await this.#import(name).catch(() => null);
      if (!mod?.cloneable) continue;
      this.#stack.registerCloner(mod.defaultPrefix, async (unit) => {
        await this.load(name, `unit=${unit}`);
      });
    }
  }

  /**
   * Loads `module` with `options` (generic options included); resolves to the
   * names of the interfaces it attached. Rejects with an ErrnoError, logged.
   */
  async load(module: string, options: string): Promise<string[]> {
    const { label } = resolveDriver(module);
    if (/^lsm-|(^|\/)lsm-/.test(module)) {
      this.#log(`Unable to load ${label}: protocol modules are not available in this stack`);
      throw new ErrnoError("ENOENT", label);
    }
    let mod: DriverModule;
    try {
      mod = await this.#import(module);
    } catch (e) {
      this.#log(`Unable to load ${label}: ${e instanceof Error ? e.message.split("\n")[0] : e}`);
      throw new ErrnoError("ENOENT", label);
    }
    const generic = splitGenericDriverOptions(options);
    const split = splitWrapOptions(generic.rest);
    const error = generic.error ?? split.error;
    if (error) {
      this.#log(`Unable to init ${label}: ${error}`);
      throw new ErrnoError("EINVAL", label);
    }
    return await this.#attach(mod, label, { ...generic, rest: split.rest }, split.wrap);
  }

  async #attach(
    mod: DriverModule,
    label: string,
    generic: { name?: string; unit?: number; rest: string },
    wrap: WrapOptions,
  ): Promise<string[]> {
    const attached: string[] = [];
    const stack = this.#stack;
    const log = this.#log;
    let live = 0;
    const host = {
      attachInterface(spec: InterfaceSpec): AttachedInterface {
        const unit = attached.length === 0 ? generic.unit : undefined;
        // The pcap writer and fault injector, when the options ask for them (drivers/wrap/).
        const pcap = wrap.pcap && pcapPathFor(wrap.pcap, attached.length);
        const w = wrapInterface(spec, { ...wrap, ...(pcap ? { pcap } : {}) }, { log });
        let name = "";
        const wrapped: InterfaceSpec = {
          ...w.spec,
          detach() {
            w.spec.detach?.();
            for (const line of w.summary()) log(`${name}: ${line}`);
            if (--live === 0) log(`${label}: no interfaces left, unloaded`);
          },
        };
        let a: AttachedInterface;
        try {
          a = stack.attachInterface(label, wrapped, {
            prefix: generic.name ?? mod.defaultPrefix,
            unit,
          });
        } catch (e) {
          w.close();
          throw e;
        }
        name = a.name;
        live++;
        attached.push(a.name);
        return { ...a, receive: w.wrapReceive(a.receive) };
      },
      log,
      readerPool: this.#readerPool,
    };
    try {
      await mod.attach(host, generic.rest);
    } catch (e) {
      for (const name of attached) {
        try {
          stack.destroyInterface(name);
        } catch { /* already gone */ }
      }
      const code = e instanceof ErrnoError ? e.code : "EIO";
      const detail = e instanceof ErrnoError ? e.message : strerror(code);
      log(`Unable to init ${label}: ${detail}`);
      throw new ErrnoError(code, label);
    }
    if (attached.length === 0) log(`${label}: attached no interface`);
    return attached;
  }

  async #import(module: string): Promise<DriverModule> {
    const { url } = resolveDriver(module);
    const ns = await import(url.href);
    if (!isDriverModule(ns.driver)) {
      throw new Error("not an io-pkt driver module (no `driver` export)");
    }
    return ns.driver;
  }
}
