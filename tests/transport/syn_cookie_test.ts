import assert from "node:assert/strict";
import { IpAddr } from "../../core/net/inet_addr.ts";
import {
  SYN_COOKIE_MSS,
  SYN_COOKIE_WSCALE,
  SynCookieInput,
  SynCookies,
} from "../../core/transport/tcp/syn_cookie.ts";
import { TcpOptions } from "../../core/wire/tcp.ts";
import { prng } from "../kit/bytes.ts";

const SECRET = Uint8Array.from({ length: 16 }, (_, i) => 0x30 + 3 * i);
const SLOT = 64_000;
const FAMILIES = [
  { name: "IPv4", local: IpAddr.parse("192.0.2.1")!, remote: IpAddr.parse("198.51.100.7")! },
  { name: "IPv6", local: IpAddr.parse("2001:db8::1")!, remote: IpAddr.parse("2001:db8:1::7")! },
];
const L4 = FAMILIES[0].local, R4 = FAMILIES[0].remote;

function syn(mss: number, wscale = -1, sackPermitted = false, timestamp = false): SynCookieInput {
  return { mss, wscale, sackPermitted, timestamp };
}

Deno.test("the option bits sit where the layout says (exact values)", () => {
  const c = new SynCookies(SECRET);
  // MSS 1460 -> index 7; wscale 7 -> table index 3, stored as 4 (bits 3-5); SACK bit 6; TS bit 7; slot 0 -> parity 0.
  const a = c.encode(L4, 80, R4, 40000, 1000, syn(1460, 7, true, true), 0);
  assert.equal(a & 0x1ff, 7 | (4 << 3) | 64 | 128);
  // MSS 536 -> 1; no wscale -> 0; slot 1 -> parity bit 8.
  const b = c.encode(L4, 80, R4, 40000, 1000, syn(536), SLOT);
  assert.equal(b & 0x1ff, 1 | 256);
  // The hash half, pinned so a change of its input shows.
  assert.equal(a >>> 9, 0x390a60);
  assert.equal(b >>> 9, 0x361cc8);
});

for (const fam of FAMILIES) {
  Deno.test(`${fam.name}: every MSS table value, every window scale and both flags round-trip`, () => {
    const c = new SynCookies(SECRET);
    let n = 0;
    for (const mss of SYN_COOKIE_MSS) {
      for (const wscale of [-1, ...SYN_COOKIE_WSCALE]) {
        for (const flags of [0, 1, 2, 3]) {
          const irs = (0x9e3779b9 * ++n) >>> 0;
          const input = syn(mss, wscale, (flags & 1) !== 0, (flags & 2) !== 0);
          const iss = c.encode(fam.local, 443, fam.remote, 50000 + n, irs, input, 5000 + n);
          const got = c.decode(iss, irs, fam.local, 443, fam.remote, 50000 + n, 6000 + n);
          assert.ok(got, `mss ${mss} wscale ${wscale} flags ${flags}`);
          assert.deepEqual({ ...got }, input);
        }
      }
    }
    assert.equal(c.sent, n);
    assert.equal(c.accepted, n);
    assert.equal(c.rejected, 0);
  });
}

Deno.test("values round down to the tables (a smaller MSS or scale is safe); absent MSS takes the family default", () => {
  const c = new SynCookies(SECRET);
  const cases: [number, number, number, number, IpAddr, IpAddr][] = [
    // mss in, wscale in, mss out, wscale out
    [1500, 15, 1460, 14, L4, R4],
    [1459, 13, 1452, 9, L4, R4],
    [1300, 5, 1220, 3, L4, R4],
    [100, 2, 216, 0, L4, R4], // below the table: raised to its smallest entry, as Linux and FreeBSD
    [0, 1, 536, 0, L4, R4],
    [0, -1, 1220, -1, FAMILIES[1].local, FAMILIES[1].remote],
  ];
  for (const [mss, ws, wantMss, wantWs, l, r] of cases) {
    const iss = c.encode(l, 80, r, 1234, 77, syn(mss, ws), 0);
    const got = c.decode(iss, 77, l, 80, r, 1234, 0)!;
    assert.deepEqual([got.mss, got.wscale], [wantMss, wantWs], `mss ${mss} wscale ${ws}`);
  }
});

Deno.test("TcpOptions from the wire parser is accepted as the SYN's options", () => {
  const c = new SynCookies(SECRET);
  const o = new TcpOptions();
  o.mss = 1440;
  o.wscale = 8;
  o.sackPermitted = true;
  const iss = c.encode(L4, 80, R4, 1, 2, o, 0);
  assert.deepEqual({ ...c.decode(iss, 2, L4, 80, R4, 1, 1)! }, syn(1440, 8, true, false));
});

Deno.test("a cookie lives through its own slot and the next, and no longer", () => {
  const c = new SynCookies(SECRET);
  const at0 = c.encode(L4, 80, R4, 40000, 5, syn(1460), 0); // slot 0
  assert.ok(c.decode(at0, 5, L4, 80, R4, 40000, 0));
  assert.ok(c.decode(at0, 5, L4, 80, R4, 40000, SLOT - 1));
  assert.ok(c.decode(at0, 5, L4, 80, R4, 40000, 2 * SLOT - 0.001));
  assert.equal(c.decode(at0, 5, L4, 80, R4, 40000, 2 * SLOT), null);
  assert.equal(c.decode(at0, 5, L4, 80, R4, 40000, 4 * SLOT), null, "same parity two slots on");
  assert.equal(c.decode(at0, 5, L4, 80, R4, 40000, 3 * SLOT), null);
  const at1 = c.encode(L4, 80, R4, 40000, 5, syn(1460), 1.5 * SLOT); // slot 1
  assert.equal(c.decode(at1, 5, L4, 80, R4, 40000, SLOT - 1), null, "from the future");
  assert.ok(c.decode(at1, 5, L4, 80, R4, 40000, 2.9 * SLOT));
  assert.equal(c.decode(at1, 5, L4, 80, R4, 40000, 3 * SLOT), null);
  // A shorter slot, as a test or a sysctl might set.
  const quick = new SynCookies(SECRET, 1000);
  const q = quick.encode(L4, 80, R4, 40000, 5, syn(536), 999);
  assert.ok(quick.decode(q, 5, L4, 80, R4, 40000, 1999));
  assert.equal(quick.decode(q, 5, L4, 80, R4, 40000, 2000), null);
});

for (const fam of FAMILIES) {
  Deno.test(`${fam.name}: a cookie fails for any other tuple, client ISN or secret, and for any flipped bit`, () => {
    const c = new SynCookies(SECRET);
    const { local, remote } = fam;
    const iss = c.encode(local, 80, remote, 40000, 424242, syn(1460, 7, true, true), 1000);
    assert.ok(c.decode(iss, 424242, local, 80, remote, 40000, 1000));
    const otherLocal = fam.name === "IPv4"
      ? IpAddr.parse("192.0.2.2")!
      : IpAddr.parse("2001:db8::2")!;
    assert.equal(c.decode(iss, 424242, otherLocal, 80, remote, 40000, 1000), null);
    assert.equal(c.decode(iss, 424242, local, 81, remote, 40000, 1000), null);
    assert.equal(c.decode(iss, 424242, local, 80, otherLocal, 40000, 1000), null);
    assert.equal(c.decode(iss, 424242, local, 80, remote, 40001, 1000), null);
    assert.equal(c.decode(iss, 424243, local, 80, remote, 40000, 1000), null);
    assert.equal(
      c.decode(iss, 424242, remote, 40000, local, 80, 1000),
      null,
      "the reverse direction",
    );
    const stranger = new SynCookies(new Uint8Array(16));
    assert.equal(stranger.decode(iss, 424242, local, 80, remote, 40000, 1000), null);
    for (let bit = 0; bit < 32; bit++) {
      const forged = (iss ^ (1 << bit)) >>> 0;
      assert.equal(c.decode(forged, 424242, local, 80, remote, 40000, 1000), null, `bit ${bit}`);
    }
    assert.equal(c.accepted, 1);
    assert.equal(c.rejected, 6 + 32);
  });
}

Deno.test("1 000 000 guessed cookies: (almost) none pass", () => {
  const c = new SynCookies(SECRET);
  const rand = prng(4987);
  let passed = 0;
  for (let i = 0; i < 1_000_000; i++) {
    const guess = (rand(0x10000) * 0x10000 + rand(0x10000)) >>> 0;
    if (c.decode(guess, 1000, L4, 80, R4, 40000, 5000) !== null) passed++;
  }
  // The hash has 23 bits: about 0.12 passes expected in a million guesses.
  assert.ok(passed <= 3, `${passed} forged cookies passed`);
  assert.equal(c.rejected + c.accepted, 1_000_000);
});

Deno.test("a non-positive slot is refused", () => {
  assert.throws(() => new SynCookies(SECRET, 0), RangeError);
});
