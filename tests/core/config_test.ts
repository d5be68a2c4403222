import assert from "node:assert/strict";
import {
  compatOnlyOptions,
  DEFAULT_STACK_CONFIG,
  parseCInteger,
  parseTcpipOptions,
  type StackConfig,
  sysctlOverrides,
  TCPIP_OPTION_NAMES,
} from "../../core/config.ts";

/** Parses `options` and asserts it produced no error. */
function ok(options: string): { config: StackConfig; log: string[] } {
  const r = parseTcpipOptions(options);
  assert.deepEqual(r.errors, [], options);
  return r;
}

/** Parses `options` and returns its single error. */
function oneError(options: string): string {
  const r = parseTcpipOptions(options);
  assert.equal(r.errors.length, 1, `${options}: ${JSON.stringify(r.errors)}`);
  return r.errors[0];
}

Deno.test("parseTcpipOptions with no options gives io-pkt's defaults", () => {
  const r = parseTcpipOptions("");
  assert.deepEqual(r, { config: { ...DEFAULT_STACK_CONFIG }, log: [], errors: [], options: [] });
});

Deno.test("DEFAULT_STACK_CONFIG holds the defaults of reference §2", () => {
  const d = DEFAULT_STACK_CONFIG;
  assert.equal(d.prefix, "");
  assert.equal(d.forward, false);
  assert.equal(d.fastforward, true);
  assert.equal(d.forward6, false);
  assert.equal(d.mclbytes, 2048);
  assert.equal(d.pagesize, 131072);
  assert.equal(d.mbufCache, 128);
  assert.equal(d.pktCache, 64);
  assert.equal(d.mtagCache, 128);
  assert.equal(d.cache, true);
  assert.equal(d.pktTypedMem, null);
  assert.equal(d.recvCtxt, 135168);
  assert.equal(d.replyCtxt, 90);
  assert.equal(d.somaxconn, 128);
  assert.equal(d.rxPrio, 21);
  assert.equal(d.timerPulsePrio, 21);
  assert.equal(d.stacksize, 4096);
  assert.equal(d.bigstack, 131072);
  assert.equal(d.threadsMin, 15);
  assert.equal(d.threadsMax, 200);
  assert.equal(d.threadsIncr, 25);
  assert.equal(d.numTapInterface, 5);
  assert.equal(d.numTunControlInterface, 4);
  assert.equal(d.enmap, true);
  assert.deepEqual(d.mfibGidMap, []);
  assert.ok(Object.isFrozen(d));
});

Deno.test("parseTcpipOptions takes the option strings of real command lines", () => {
  assert.equal(ok("threads_max=300").config.threadsMax, 300);
  assert.equal(ok("threads_max=1000").config.threadsMax, 1000);
  const a = ok("stacksize=48000,mclbytes=4096");
  assert.equal(a.config.stacksize, 48000);
  assert.equal(a.config.mclbytes, 4096);
  assert.deepEqual(a.log, []);
  const b = ok(
    "stacksize=8192,pagesize=65536,pkt_cache=1024,mbuf_cache=1024,pkt_typed_mem=/ram/dma",
  );
  assert.equal(b.config.stacksize, 8192);
  assert.equal(b.config.pagesize, 65536);
  assert.equal(b.config.pktCache, 1024);
  assert.equal(b.config.mbufCache, 1024);
  assert.equal(b.config.pktTypedMem, "/ram/dma");
  const c = ok("stacksize=8192,prefix=/alt");
  assert.equal(c.config.prefix, "/alt");
  const d = ok("prefix=/alt,forward");
  assert.equal(d.config.prefix, "/alt");
  assert.equal(d.config.forward, true);
  assert.equal(ok("ipsec").config.ipsec, true);
  assert.equal(ok("pkt_typed_mem=ram/dma").config.pktTypedMem, "ram/dma");
});

Deno.test("parseTcpipOptions returns the recognized option names in order", () => {
  const r = parseTcpipOptions("threads=20,bogus,forward,threads=30");
  assert.deepEqual(r.options, ["threads", "forward", "threads"]);
});

Deno.test("parseTcpipOptions wants an absolute prefix", () => {
  assert.equal(ok("prefix=/tmp/io-pkt").config.prefix, "/tmp/io-pkt");
  assert.equal(ok("prefix=").config.prefix, "");
  assert.match(oneError("prefix=alt"), /prefix.*"alt" is not an absolute path/);
  assert.match(oneError("prefix"), /prefix.*requires a value/);
});

Deno.test("parseTcpipOptions: forward turns IPv4 forwarding on, with the fast path", () => {
  const r = ok("forward");
  assert.equal(r.config.forward, true);
  assert.equal(r.config.fastforward, true);
  assert.deepEqual(sysctlOverrides(r.config)["net.inet.ip.forwarding"], 1);
});

Deno.test("parseTcpipOptions: fastforward with no value or non-zero also enables forward", () => {
  for (const opt of ["fastforward", "fastforward=1", "fastforward=5"]) {
    const c = ok(opt).config;
    assert.equal(c.forward, true, opt);
    assert.equal(c.fastforward, true, opt);
  }
});

Deno.test("parseTcpipOptions: forward,fastforward=0 forwards without the fast path", () => {
  const c = ok("forward,fastforward=0").config;
  assert.equal(c.forward, true);
  assert.equal(c.fastforward, false);
  const alone = ok("fastforward=0").config;
  assert.equal(alone.forward, false);
  assert.equal(alone.fastforward, false);
  assert.match(oneError("fastforward=yes"), /fastforward.*invalid number "yes"/);
});

Deno.test("parseTcpipOptions: a switch given =0 is still set, as io-pkt does, and says so", () => {
  const r = ok("forward=0");
  assert.equal(r.config.forward, true);
  assert.deepEqual(r.log, ['tcpip: option "forward" takes no value; "=0" ignored, option set']);
  assert.deepEqual(ok("forward=1").log, []);
});

Deno.test("parseTcpipOptions: forward6 exists on the v6 stack only", () => {
  assert.equal(ok("forward6").config.forward6, true);
  const v4 = parseTcpipOptions("forward6", DEFAULT_STACK_CONFIG, { inet6: false });
  assert.equal(v4.config.forward6, false);
  assert.deepEqual(v4.log, ['tcpip: unrecognized option: "forward6"']);
});

Deno.test("parseTcpipOptions sets every switch", () => {
  const c = ok(
    "ipsec,nocryptodev,pfil_ipsec,reuseport_unicast,random,confstr_monitor,stackguard," +
      "strict_ts,altq,so_txprio_enable,mfib_enable",
  ).config;
  assert.equal(c.ipsec, true);
  assert.equal(c.nocryptodev, true);
  assert.equal(c.pfilIpsec, true);
  assert.equal(c.reuseportUnicast, true);
  assert.equal(c.random, true);
  assert.equal(c.confstrMonitor, true);
  assert.equal(c.stackguard, true);
  assert.equal(c.strictTs, true);
  assert.equal(c.altq, true);
  assert.equal(c.soTxprioEnable, true);
  assert.equal(c.mfibEnable, true);
});

Deno.test("parseTcpipOptions logs so_txprio_enable and mfib_enable as io-pkt does", () => {
  assert.deepEqual(ok("so_txprio_enable,mfib_enable").log, [
    "tcpip: option so_txprio_enable: SO_TXPRIO support enabled",
    "tcpip: option mfib_enable: multi-fib enabled",
  ]);
});

Deno.test("parseTcpipOptions rounds mclbytes down to a power of two", () => {
  const r = ok("mclbytes=3000");
  assert.equal(r.config.mclbytes, 2048);
  assert.deepEqual(r.log, [
    'tcpip: option "mclbytes": 3000 adjusted to 2048 (2048..16384, rounded down to a power of 2)',
  ]);
  assert.equal(ok("mclbytes=12000").config.mclbytes, 8192);
  assert.equal(ok("mclbytes=0x1000").config.mclbytes, 4096);
  assert.deepEqual(ok("mclbytes=4096").log, []);
});

Deno.test("parseTcpipOptions clamps mclbytes to 2048..16384", () => {
  assert.equal(ok("mclbytes=1000").config.mclbytes, 2048);
  assert.equal(ok("mclbytes=20000").config.mclbytes, 16384);
  assert.equal(ok("mclbytes=65536").config.mclbytes, 16384);
});

Deno.test("parseTcpipOptions caps mclbytes at pagesize, in either order", () => {
  for (const opts of ["mclbytes=16384,pagesize=8192", "pagesize=8192,mclbytes=16384"]) {
    const r = ok(opts);
    assert.equal(r.config.mclbytes, 8192, opts);
    assert.deepEqual(r.log, ['tcpip: option "mclbytes": 16384 adjusted to 8192 (max pagesize)']);
  }
  assert.equal(ok("mclbytes=16384,pagesize=65536").config.mclbytes, 16384);
});

Deno.test("parseTcpipOptions rejects bad mclbytes values", () => {
  assert.match(oneError("mclbytes=4k"), /^tcpip: option "mclbytes": invalid number "4k"$/);
  assert.match(oneError("mclbytes=-2048"), /mclbytes.*-2048 is negative/);
  assert.match(oneError("mclbytes"), /mclbytes.*requires a value/);
  assert.match(oneError("mclbytes=99999999999"), /invalid number/);
});

Deno.test("parseTcpipOptions clamps pagesize to 4096..16 MiB and rounds it down", () => {
  assert.equal(ok("pagesize=65536").config.pagesize, 65536);
  assert.equal(ok("pagesize=100000").config.pagesize, 65536);
  assert.equal(ok("pagesize=1000").config.pagesize, 4096);
  assert.equal(ok("pagesize=0x2000000").config.pagesize, 16 * 1024 * 1024);
  assert.deepEqual(ok("pagesize=100000").log, [
    'tcpip: option "pagesize": 100000 adjusted to 65536 (4096..16777216, rounded down to a power of 2)',
  ]);
});

Deno.test("parseTcpipOptions: bigpage_strict with or without a value", () => {
  assert.equal(ok("bigpage_strict").config.bigpageStrict, true);
  assert.equal(ok("bigpage_strict=1").config.bigpageStrict, true);
  assert.equal(ok("bigpage_strict=0").config.bigpageStrict, false);
});

Deno.test("parseTcpipOptions takes cache sizes of zero or more", () => {
  const c = ok("mbuf_cache=0,pkt_cache=32,mtag_cache=7").config;
  assert.equal(c.mbufCache, 0);
  assert.equal(c.pktCache, 32);
  assert.equal(c.mtagCache, 7);
  assert.match(oneError("mbuf_cache=-1"), /mbuf_cache.*-1 is negative/);
  assert.match(oneError("pkt_cache=-5"), /pkt_cache/);
  assert.match(oneError("mtag_cache=x"), /mtag_cache.*invalid number "x"/);
});

Deno.test("parseTcpipOptions: cache=0 turns packet caching off", () => {
  assert.equal(ok("cache=0").config.cache, false);
  assert.equal(ok("cache=1").config.cache, true);
  assert.match(oneError("cache"), /cache.*requires a value/);
});

Deno.test("parseTcpipOptions: pkt_typed_mem needs an object name", () => {
  assert.match(oneError("pkt_typed_mem"), /pkt_typed_mem.*requires a value/);
  assert.match(oneError("pkt_typed_mem="), /pkt_typed_mem.*requires a value/);
});

Deno.test("parseTcpipOptions clamps recv_ctxt to 4K..512K in 2 KiB steps", () => {
  assert.equal(ok("recv_ctxt=65536").config.recvCtxt, 65536);
  assert.equal(ok("recv_ctxt=6144").config.recvCtxt, 6144);
  assert.equal(ok("recv_ctxt=1000").config.recvCtxt, 4096);
  assert.equal(ok("recv_ctxt=5000").config.recvCtxt, 4096);
  assert.equal(ok("recv_ctxt=1048576").config.recvCtxt, 524288);
  assert.deepEqual(ok("recv_ctxt=5000").log, [
    'tcpip: option "recv_ctxt": 5000 adjusted to 4096 (4096..524288, rounded down to a multiple of 2048)',
  ]);
});

Deno.test("parseTcpipOptions clamps reply_ctxt to 32..512", () => {
  assert.equal(ok("reply_ctxt=100").config.replyCtxt, 100);
  assert.equal(ok("reply_ctxt=10").config.replyCtxt, 32);
  assert.equal(ok("reply_ctxt=1000").config.replyCtxt, 512);
});

Deno.test("parseTcpipOptions raises somaxconn below 128 to 128", () => {
  const r = ok("somaxconn=16");
  assert.equal(r.config.somaxconn, 128);
  assert.deepEqual(r.log, ['tcpip: option "somaxconn": 16 adjusted to 128 (min 128)']);
  assert.equal(ok("somaxconn=1024").config.somaxconn, 1024);
  assert.match(oneError("somaxconn=-1"), /somaxconn/);
});

Deno.test("parseTcpipOptions clamps priorities to 1..255", () => {
  assert.equal(ok("rx_prio=30").config.rxPrio, 30);
  assert.equal(ok("rx_pulse_prio=40").config.rxPrio, 40);
  assert.equal(ok("rx_prio=0").config.rxPrio, 1);
  assert.equal(ok("rx_prio=300").config.rxPrio, 255);
  assert.equal(ok("timer_pulse_prio=22").config.timerPulsePrio, 22);
  assert.equal(ok("timer_pulse_prio=-3").config.timerPulsePrio, 1);
  assert.deepEqual(ok("rx_prio=300").log, [
    'tcpip: option "rx_prio": 300 adjusted to 255 (1..255)',
  ]);
});

Deno.test("parseTcpipOptions ignores a stacksize below the current one", () => {
  assert.equal(ok("stacksize=8192").config.stacksize, 8192);
  const r = ok("stacksize=2048");
  assert.equal(r.config.stacksize, 4096);
  assert.deepEqual(r.log, ['tcpip: option "stacksize": 2048 below 4096, ignored']);
  assert.equal(ok("stacksize=8192,stacksize=6000").config.stacksize, 8192);
});

Deno.test("parseTcpipOptions: stackguard rounds stacksize up to a page", () => {
  const r = ok("stacksize=48000,stackguard");
  assert.equal(r.config.stacksize, 49152);
  assert.deepEqual(r.log, [
    "tcpip: stackguard enabled and configured stacksize 48000 was not a multiple of pagesize " +
    "4096, increasing stacksize to 49152",
  ]);
  assert.deepEqual(ok("stackguard,stacksize=8192").log, []);
});

Deno.test("parseTcpipOptions: bigstack with a size, or alone to log the default", () => {
  assert.equal(ok("bigstack=65536").config.bigstack, 65536);
  const r = ok("bigstack");
  assert.equal(r.config.bigstack, 131072);
  assert.deepEqual(r.log, ["tcpip: bigstack size default 131072"]);
});

Deno.test("parseTcpipOptions: threads_min is at least 4 and at most threads_max", () => {
  assert.equal(ok("threads_min=20").config.threadsMin, 20);
  assert.equal(ok("threads_min=2").config.threadsMin, 4);
  const r = ok("threads_min=300");
  assert.equal(r.config.threadsMin, 200);
  assert.match(r.log[0], /threads_min.*300 adjusted to 200/);
  // io-pkt applies the options in order: raise the max first.
  assert.equal(ok("threads_max=1000,threads_min=300").config.threadsMin, 300);
});

Deno.test("parseTcpipOptions: threads_max (alias threads) is at least 4 and threads_min", () => {
  assert.equal(ok("threads=50").config.threadsMax, 50);
  assert.equal(ok("threads_max=2").config.threadsMax, 15);
  assert.equal(ok("threads_min=4,threads_max=2").config.threadsMax, 4);
  assert.match(oneError("threads=many"), /threads.*invalid number "many"/);
});

Deno.test("parseTcpipOptions: threads_incr is at least 4", () => {
  assert.equal(ok("threads_incr=10").config.threadsIncr, 10);
  assert.equal(ok("threads_incr=1").config.threadsIncr, 4);
});

Deno.test("parseTcpipOptions sets the TAP and TUN interface counts", () => {
  const c = ok("num_tap_interface=10,num_tun_control_interface=0").config;
  assert.equal(c.numTapInterface, 10);
  assert.equal(c.numTunControlInterface, 0);
  assert.match(oneError("num_tap_interface"), /num_tap_interface.*requires a value/);
  assert.match(oneError("num_tun_control_interface=-1"), /negative/);
});

Deno.test("parseTcpipOptions maps mfib_gid_map GIDs to the FIB of their position", () => {
  const r = ok("mfib_gid_map=750_1;760_2");
  assert.deepEqual(r.config.mfibGidMap, [{ gid: 750, fib: 0 }, { gid: 760, fib: 1 }]);
  assert.deepEqual(r.log, [
    "tcpip: option mfib_gid_map: multi-fib gid 750 mapped to fib #0",
    "tcpip: option mfib_gid_map: multi-fib gid 760 mapped to fib #1",
  ]);
  assert.deepEqual(ok("mfib_gid_map=100").config.mfibGidMap, [{ gid: 100, fib: 0 }]);
});

Deno.test("parseTcpipOptions takes mfib_gid_map's gid=fib form", () => {
  const c = ok("mfib_gid_map=750=1;760=2").config;
  assert.deepEqual(c.mfibGidMap, [{ gid: 750, fib: 1 }, { gid: 760, fib: 2 }]);
});

Deno.test("parseTcpipOptions rejects a malformed mfib_gid_map", () => {
  assert.match(oneError("mfib_gid_map=abc"), /mfib_gid_map.*bad mapping "abc"/);
  assert.match(oneError("mfib_gid_map=750_1;"), /bad mapping ""/);
  assert.match(oneError("mfib_gid_map=750=x"), /bad mapping "750=x"/);
  assert.match(oneError("mfib_gid_map"), /requires a value/);
});

Deno.test("parseTcpipOptions: enmap=0 turns enN aliasing off", () => {
  assert.equal(ok("enmap=0").config.enmap, false);
  assert.equal(ok("enmap=1").config.enmap, true);
});

Deno.test("parseTcpipOptions: timertol out of 0..1000 is logged and ignored", () => {
  assert.equal(ok("timertol=5").config.timertol, 5);
  const r = ok("timertol=2000");
  assert.equal(r.config.timertol, 0);
  assert.deepEqual(r.log, ['tcpip: "timertol" option: 2000 > 1000.  Ignoring']);
  assert.deepEqual(ok("timertol=-1").log, ['tcpip: "timertol" option: -1 < 0.  Ignoring']);
});

Deno.test("parseTcpipOptions: a bad tickstop pair is logged and reset", () => {
  const good = ok("tickstop_min=1,tickstop_max=10").config;
  assert.equal(good.tickstopMin, 1);
  assert.equal(good.tickstopMax, 10);
  const r = ok("tickstop_min=5,tickstop_max=2");
  assert.equal(r.config.tickstopMin, 0);
  assert.equal(r.config.tickstopMax, 0);
  assert.deepEqual(r.log, ["tcpip: invalid tickstop combination (ignored)"]);
});

Deno.test("parseTcpipOptions records the undocumented knobs", () => {
  const r = ok("rgroup_allowed=100,gtimerlib=libgt.so,min_fperms=0600,altq");
  assert.equal(r.config.rgroupAllowed, 100);
  assert.equal(r.config.gtimerlib, "libgt.so");
  assert.equal(r.config.minFperms, 0o600);
  assert.equal(r.config.altq, true);
  assert.deepEqual(r.log, ["tcpip: option rgroup_allowed: allowing root-group access"]);
  assert.equal(ok("rgroup_allowed").config.rgroupAllowed, 0);
});

Deno.test("parseTcpipOptions logs an unrecognized option and goes on", () => {
  const r = parseTcpipOptions("bogus,forward,nothing=3");
  assert.deepEqual(r.errors, []);
  assert.equal(r.config.forward, true);
  assert.deepEqual(r.log, [
    'tcpip: unrecognized option: "bogus"',
    'tcpip: unrecognized option: "nothing"',
  ]);
  assert.deepEqual(parseTcpipOptions("constructor,__proto__=1").log, [
    'tcpip: unrecognized option: "constructor"',
    'tcpip: unrecognized option: "__proto__"',
  ]);
});

Deno.test("parseTcpipOptions skips empty words", () => {
  assert.deepEqual(ok(",forward,,random,").log, []);
});

Deno.test("parseTcpipOptions collects every error", () => {
  const r = parseTcpipOptions("prefix=rel,mclbytes=x,forward,mbuf_cache=-1");
  assert.equal(r.errors.length, 3);
  assert.equal(r.config.forward, true);
});

Deno.test("parseTcpipOptions applies options on top of a base and leaves it alone", () => {
  const base = ok("prefix=/alt,mfib_gid_map=5").config;
  const r = parseTcpipOptions("forward,mfib_gid_map=6=1", base);
  assert.equal(r.config.prefix, "/alt");
  assert.equal(r.config.forward, true);
  assert.deepEqual(r.config.mfibGidMap, [{ gid: 5, fib: 0 }, { gid: 6, fib: 1 }]);
  assert.equal(base.forward, false);
  assert.deepEqual(base.mfibGidMap, [{ gid: 5, fib: 0 }]);
});

Deno.test("every option of reference §2 is recognized", () => {
  const names = (
    "prefix forward fastforward forward6 ipsec nocryptodev pfil_ipsec mclbytes " +
    "pagesize bigpage_strict mbuf_cache pkt_cache mtag_cache cache pkt_typed_mem " +
    "recv_ctxt reply_ctxt somaxconn reuseport_unicast rx_prio rx_pulse_prio " +
    "timer_pulse_prio stacksize stackguard bigstack threads_min threads_max threads " +
    "threads_incr confstr_monitor random num_tap_interface " +
    "num_tun_control_interface mfib_gid_map mfib_enable so_txprio_enable strict_ts " +
    "enmap timertol tickstop_min tickstop_max rgroup_allowed gtimerlib min_fperms " +
    "altq"
  ).split(" ");
  assert.deepEqual([...TCPIP_OPTION_NAMES].sort(), [...names].sort());
});

Deno.test("compatOnlyOptions leaves out exactly the options the stack uses", () => {
  const used = (
    "prefix forward fastforward forward6 somaxconn mclbytes threads_min threads_max " +
    "threads threads_incr num_tap_interface num_tun_control_interface " +
    "reuseport_unicast recv_ctxt cache mbuf_cache pkt_cache"
  ).split(" ");
  for (const name of compatOnlyOptions) assert.ok(TCPIP_OPTION_NAMES.includes(name), name);
  const rest = TCPIP_OPTION_NAMES.filter((n) => !compatOnlyOptions.includes(n));
  assert.deepEqual(rest.sort(), [...used].sort());
});

Deno.test("sysctlOverrides maps forwarding and mclbytes to their sysctls", () => {
  assert.deepEqual(sysctlOverrides(DEFAULT_STACK_CONFIG), {
    "net.inet.ip.forwarding": 0,
    "kern.mbuf.mclbytes": 2048,
    "net.inet6.ip6.forwarding": 0,
  });
  assert.deepEqual(sysctlOverrides(ok("forward,forward6,mclbytes=8192").config), {
    "net.inet.ip.forwarding": 1,
    "kern.mbuf.mclbytes": 8192,
    "net.inet6.ip6.forwarding": 1,
  });
  assert.deepEqual(sysctlOverrides(ok("forward").config, { inet6: false }), {
    "net.inet.ip.forwarding": 1,
    "kern.mbuf.mclbytes": 2048,
  });
});

Deno.test("parseCInteger reads whole C integers in decimal, hex and octal", () => {
  assert.equal(parseCInteger("65536"), 65536);
  assert.equal(parseCInteger("0x10000"), 65536);
  assert.equal(parseCInteger("0X1f"), 31);
  assert.equal(parseCInteger("0200000"), 65536);
  assert.equal(parseCInteger("0"), 0);
  assert.equal(parseCInteger("-12"), -12);
  assert.equal(parseCInteger("+7"), 7);
  assert.equal(parseCInteger("2147483647"), 2147483647);
  assert.equal(parseCInteger("-2147483648"), -2147483648);
  for (const bad of ["", "4k", "08", "0x", " 1", "1 ", "1.5", "2147483648", "--1", "abc"]) {
    assert.equal(parseCInteger(bad), undefined, bad);
  }
});
