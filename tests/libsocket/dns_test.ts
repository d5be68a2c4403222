/**
 * The DNS stub resolver of the socket library: the wire format, resolv.conf,
 * and the exchange with a scripted name server behind a fake socket (the
 * library's own sockets are tested with the socket hop; here only what the
 * resolver does with what it sends and gets back).
 */
import assert from "node:assert/strict";
import { ErrnoError } from "../../core/errno.ts";
import { buildQuery, DNS_TYPE, encodeName, parseResponse } from "../../libsocket/dns_wire.ts";
import {
  type DnsSocket,
  type DnsUdpAddr,
  parseResolvConf,
  resolveWith,
} from "../../libsocket/dns.ts";
import { hex } from "../kit/bytes.ts";

/** A response to `query` (as built by buildQuery) with answer records given as raw bytes. */
function response(query: Uint8Array, rcode: number, answers: Uint8Array[], tc = false): Uint8Array {
  const body = answers.reduce((n, a) => n + a.length, 0);
  const out = new Uint8Array(query.length + body);
  out.set(query);
  out[2] = 0x81 | (tc ? 0x02 : 0); // QR, RD (+TC)
  out[3] = 0x80 | rcode; // RA
  out[7] = answers.length;
  let at = query.length;
  for (const a of answers) {
    out.set(a, at);
    at += a.length;
  }
  return out;
}

/** An answer record whose owner is a pointer to the question name (offset 12). */
function rr(type: number, rdata: Uint8Array): Uint8Array {
  const r = new Uint8Array(12 + rdata.length);
  r.set([
    0xc0,
    0x0c,
    type >> 8,
    type & 0xff,
    0,
    1,
    0,
    0,
    0x0e,
    0x10,
    rdata.length >> 8,
    rdata.length,
  ]);
  r.set(rdata, 12);
  return r;
}

Deno.test("DNS: a query is the RFC 1035 bytes dig would send (RD, one IN question)", () => {
  const q = buildQuery(0xbeef, "www.example.test", DNS_TYPE.AAAA);
  assert.deepEqual(
    q,
    hex("beef 0100 0001 0000 0000 0000 03777777 076578616d706c65 0474657374 00 001c 0001"),
  );
  assert.equal(encodeName("a".repeat(64) + ".test"), null, "labels are at most 63 bytes");
  assert.equal(encodeName("a..b"), null);
  assert.throws(() => buildQuery(1, "x".repeat(300), 1), RangeError);
});

Deno.test("DNS: answers of every supported type read back in Deno.resolveDns's shapes", () => {
  const name = "svc.example.test";
  const cases: [keyof typeof DNS_TYPE, Uint8Array, unknown][] = [
    ["A", hex("c0000207"), "192.0.2.7"],
    ["AAAA", hex("20010db8000000000000000000000001"), "2001:db8::1"],
    ["CNAME", hex("0474617267c00c"), "targ.svc.example.test."],
    ["NS", hex("026e73c00c"), "ns.svc.example.test."],
    ["PTR", hex("01780474657374 00"), "x.test."],
    ["MX", hex("000a 046d61696c c00c"), { preference: 10, exchange: "mail.svc.example.test." }],
    ["SRV", hex("0001 0002 0035 c00c"), {
      priority: 1,
      weight: 2,
      port: 53,
      target: "svc.example.test.",
    }],
    ["TXT", hex("0568656c6c6f 00 03616263"), ["hello", "", "abc"]],
    [
      "SOA",
      hex("026e73c00c 05616c65727400 00000001 00000e10 00000258 00093a80 0000012c"),
      {
        mname: "ns.svc.example.test.",
        rname: "alert.",
        serial: 1,
        refresh: 3600,
        retry: 600,
        expire: 604800,
        minimum: 300,
      },
    ],
  ];
  for (const [t, rdata, want] of cases) {
    const type = DNS_TYPE[t];
    const q = buildQuery(7, name, type);
    const r = parseResponse(response(q, 0, [rr(type, rdata)]), 7, name, type);
    assert.deepEqual(r, { kind: "answers", answers: [want] }, t);
  }
});

Deno.test("DNS: responses that do not answer this query are ignored; bad ones are errors, never throws", () => {
  const q = buildQuery(9, "a.test", DNS_TYPE.A);
  const good = response(q, 0, [rr(1, hex("c0000201"))]);
  assert.equal(parseResponse(good, 10, "a.test", 1).kind, "ignore", "another id");
  assert.equal(parseResponse(good, 9, "b.test", 1).kind, "ignore", "another question");
  assert.equal(parseResponse(good, 9, "a.test", 28).kind, "ignore", "another type");
  assert.equal(parseResponse(q, 9, "a.test", 1).kind, "ignore", "a query, not a response");
  assert.deepEqual(
    parseResponse(good, 9, "A.TEST.", 1).kind,
    "answers",
    "names compare case-blind",
  );
  assert.deepEqual(parseResponse(response(q, 3, []), 9, "a.test", 1), { kind: "nxdomain" });
  assert.deepEqual(parseResponse(response(q, 2, []), 9, "a.test", 1), { kind: "error", rcode: 2 });
  assert.deepEqual(parseResponse(response(q, 0, [], true), 9, "a.test", 1), { kind: "truncated" });
  // A pointer loop, a length past the end, a wrong A length: errors.
  const qc = buildQuery(9, "a.test", DNS_TYPE.CNAME);
  const loop = response(qc, 0, [rr(5, hex("c000"))]);
  loop[loop.length - 2] = 0xc0;
  loop[loop.length - 1] = loop.length - 2;
  assert.deepEqual(parseResponse(loop, 9, "a.test", 5), { kind: "error", rcode: -1 });
  const cut = good.subarray(0, good.length - 2);
  assert.deepEqual(parseResponse(cut, 9, "a.test", 1), { kind: "error", rcode: -1 });
  assert.deepEqual(parseResponse(response(q, 0, [rr(1, hex("c00002"))]), 9, "a.test", 1), {
    kind: "error",
    rcode: -1,
  });
  // Random garbage never throws.
  for (let i = 0; i < 2000; i++) {
    const junk = crypto.getRandomValues(new Uint8Array(12 + (i % 200)));
    junk[0] = 0;
    junk[1] = 9;
    parseResponse(junk, 9, "a.test", 1);
  }
});

Deno.test("DNS: resolv.conf gives up to three name servers and the timeout and attempts options", () => {
  const cfg = parseResolvConf(
    "# comment\nsearch example.test\nnameserver 192.0.2.53\nnameserver 2001:db8::53 ; v6\n" +
      "nameserver not-an-address\nnameserver 198.51.100.53\nnameserver 203.0.113.53\n" +
      "options timeout:2 attempts:9 rotate\n",
  );
  assert.deepEqual(cfg.nameServers.map((s) => s.ipAddr), [
    "192.0.2.53",
    "2001:db8::53",
    "198.51.100.53",
  ]);
  assert.equal(cfg.timeout, 2);
  assert.equal(cfg.attempts, 5, "capped");
  assert.deepEqual(parseResolvConf(""), { nameServers: [], timeout: 5, attempts: 2 });
});

/** A fake socket: `serve` sees each query and says what comes back (and from where). */
class FakeSocket implements DnsSocket {
  #queue: [Uint8Array, DnsUdpAddr][] = [];
  #waiting: ((v: [Uint8Array, DnsUdpAddr]) => void) | null = null;
  closed = false;
  constructor(readonly serve: (q: Uint8Array, to: DnsUdpAddr) => [Uint8Array, DnsUdpAddr][]) {}
  send(data: Uint8Array, addr: DnsUdpAddr): Promise<number> {
    for (const r of this.serve(data, addr)) this.#push(r);
    return Promise.resolve(data.length);
  }
  #push(r: [Uint8Array, DnsUdpAddr]) {
    if (this.#waiting) {
      const w = this.#waiting;
      this.#waiting = null;
      w(r);
    } else this.#queue.push(r);
  }
  receive(): Promise<[Uint8Array, DnsUdpAddr]> {
    const r = this.#queue.shift();
    if (r) return Promise.resolve(r);
    return new Promise((res) => (this.#waiting = res));
  }
  close(): void {
    this.closed = true;
  }
}

const SERVER = { transport: "udp" as const, hostname: "192.0.2.53", port: 53 };

Deno.test("DNS: resolveWith asks the server, skips spoofed and stray answers, and closes its socket", async () => {
  let asked = 0;
  const sock = new FakeSocket((q, to): [Uint8Array, DnsUdpAddr][] => {
    asked++;
    assert.deepEqual(to, SERVER);
    const spoofId = new Uint8Array(q);
    spoofId[1] ^= 1;
    return [
      [response(q, 0, [rr(1, hex("cb007101"))]), { ...SERVER, hostname: "192.0.2.66" }], // wrong source
      [response(spoofId, 0, [rr(1, hex("cb007102"))]), SERVER], // wrong id
      [response(q, 0, [rr(1, hex("c0000207")), rr(1, hex("c0000208"))]), SERVER],
    ];
  });
  const got = await resolveWith(
    () => Promise.resolve(sock),
    parseResolvConf("nameserver 192.0.2.53"),
    "www.example.test",
    "A",
  );
  assert.deepEqual(got, ["192.0.2.7", "192.0.2.8"]);
  assert.equal(asked, 1);
  assert.ok(sock.closed);
});

Deno.test("DNS: NXDOMAIN and an empty answer are ENOENT, SERVFAIL is EAGAIN, TC is EOPNOTSUPP", async () => {
  const cfg = parseResolvConf("nameserver 192.0.2.53");
  const withRcode = (rcode: number, tc = false) => () =>
    Promise.resolve(new FakeSocket((q) => [[response(q, rcode, [], tc), SERVER]]));
  const code = async (open: () => Promise<DnsSocket>) => {
    try {
      await resolveWith(open, cfg, "gone.example.test", "AAAA");
      return "resolved";
    } catch (e) {
      return e instanceof ErrnoError ? e.code : String(e);
    }
  };
  assert.equal(await code(withRcode(3)), "ENOENT");
  assert.equal(await code(withRcode(0)), "ENOENT");
  assert.equal(await code(withRcode(2)), "EAGAIN");
  assert.equal(await code(withRcode(0, true)), "EOPNOTSUPP");
  await assert.rejects(
    () => resolveWith(withRcode(0), cfg, "x.test", "HINFO" as "A"),
    (e) => e instanceof ErrnoError && e.code === "EINVAL",
  );
  await assert.rejects(
    () => resolveWith(withRcode(0), parseResolvConf(""), "x.test", "A"),
    (e) => e instanceof ErrnoError && e.code === "ENOENT",
  );
});

Deno.test("DNS: a silent server times out to the next one; all silent is ETIMEDOUT", async () => {
  const cfg = {
    ...parseResolvConf("nameserver 192.0.2.53\nnameserver 198.51.100.53"),
    timeout: 0.05,
  };
  const asked: string[] = [];
  const sock = new FakeSocket((q, to) => {
    asked.push(to.hostname);
    return to.hostname === "198.51.100.53" ? [[response(q, 0, [rr(1, hex("c0000209"))]), to]] : [];
  });
  assert.deepEqual(await resolveWith(() => Promise.resolve(sock), cfg, "a.test", "A"), [
    "192.0.2.9",
  ]);
  assert.deepEqual(asked, ["192.0.2.53", "198.51.100.53"]);
  const silent = new FakeSocket(() => []);
  await assert.rejects(
    () => resolveWith(() => Promise.resolve(silent), { ...cfg, attempts: 1 }, "a.test", "A"),
    (e) => e instanceof ErrnoError && e.code === "ETIMEDOUT",
  );
});

Deno.test("DNS: resolveDns through an embedded stack asks a name server on that stack", async () => {
  const { Stack } = await import("../../core/stack.ts");
  const { listenDatagram } = await import("../../libsocket/datagram.ts");
  const { resolveDns } = await import("../../libsocket/dns.ts");
  const stack = new Stack({ inet6: true });
  // A tiny name server on the stack's loopback, answering A and AAAA for one name.
  const server = listenDatagram({ port: 5353, hostname: "127.0.0.1", transport: "udp" }, {
    stack,
  });
  const served = (async () => {
    for await (const [q, from] of server) {
      const type = (q[q.length - 4] << 8) | q[q.length - 3];
      const answers = type === DNS_TYPE.A
        ? [rr(1, hex("c0000235"))]
        : type === DNS_TYPE.AAAA
        ? [rr(28, hex("20010db8000000000000000000000035"))]
        : [];
      await server.send(response(q, answers.length ? 0 : 3, answers), from);
    }
  })();
  const via = { stack, nameServer: { ipAddr: "127.0.0.1", port: 5353 } };
  assert.deepEqual(await resolveDns("ns.example.test", "A", via), ["192.0.2.53"]);
  assert.deepEqual(await resolveDns("ns.example.test", "AAAA", via), ["2001:db8::35"]);
  await assert.rejects(
    () => resolveDns("ns.example.test", "MX", via),
    (e) => e instanceof ErrnoError && e.code === "ENOENT",
  );
  // resolv.conf given as a file, as a daemon's <prefix>/etc/resolv.conf would be.
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/resolv.conf`, "nameserver 127.0.0.1\n");
    // Port 53 in the file: nobody answers there, so a short timeout ends it.
    await Deno.writeTextFile(
      `${dir}/resolv.conf`,
      "nameserver 127.0.0.1\noptions timeout:1 attempts:1\n",
    );
    await assert.rejects(
      () => resolveDns("ns.example.test", "A", { stack, resolvConf: `${dir}/resolv.conf` }),
      (e) => e instanceof ErrnoError && (e.code === "ETIMEDOUT" || e.code === "ECONNREFUSED"),
    );
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
  server.close();
  await served.catch(() => {});
});
