/**
 * Random send / ACK / SACK / retransmit / loss-mark sequences through
 * `SentSegments` and `SackScoreboard`, checked after every step against a
 * plain model: an array of record objects with every total recomputed from
 * scratch and RFC 6675's rules applied octet by octet.
 */
import assert from "node:assert/strict";
import {
  SEG_EVER_RETRANS,
  SEG_LOST,
  SEG_RETRANS,
  SEG_SACKED,
  SentSegments,
} from "../../core/transport/tcp/sent_segments.ts";
import { NEXT_SEG, SackScoreboard } from "../../core/transport/tcp/sack_scoreboard.ts";
import { prng } from "../kit/bytes.ts";

interface Rec {
  start: number; // offset from the initial sequence number
  flags: number;
  xmit: number;
  order: number;
}

class Model {
  una = 0;
  max = 0;
  recs: Rec[] = [];
  highestSacked = 0;
  acked = 0;
  newlySacked = 0;
  delivered = 0;
  rttXmit = -1;
  rttEnd = 0;
  sends = 0;
  constructor(readonly maxHoles: number) {}

  end(i: number): number {
    return i + 1 < this.recs.length ? this.recs[i + 1].start : this.max;
  }
  len(i: number): number {
    return this.end(i) - this.recs[i].start;
  }
  sacked(i: number): boolean {
    return (this.recs[i].flags & SEG_SACKED) !== 0;
  }
  find(off: number): number {
    return this.recs.findIndex((_, i) => this.recs[i].start <= off && off < this.end(i));
  }
  split(off: number): void {
    const i = this.find(off);
    if (i >= 0 && this.recs[i].start !== off) {
      this.recs.splice(i + 1, 0, { ...this.recs[i], start: off });
    }
  }
  holes(): number {
    let h = 0;
    for (let i = 0; i + 1 < this.recs.length; i++) if (!this.sacked(i) && this.sacked(i + 1)) h++;
    return h;
  }
  total(mask: number): number {
    let t = 0;
    for (let i = 0; i < this.recs.length; i++) if (this.recs[i].flags & mask) t += this.len(i);
    return t;
  }

  send(len: number, now: number): void {
    this.recs.push({ start: this.max, flags: 0, xmit: now, order: ++this.sends });
    this.max += len;
  }

  #delivered(i: number): void {
    const r = this.recs[i];
    if (r.flags & SEG_EVER_RETRANS) return;
    const e = this.end(i);
    if (r.xmit > this.rttXmit || (r.xmit === this.rttXmit && e > this.rttEnd)) {
      this.rttXmit = r.xmit;
      this.rttEnd = e;
    }
  }

  ack(cum: number, blocks: number[][]): void {
    this.acked = this.newlySacked = this.delivered = 0;
    this.rttXmit = -1;
    if (cum > this.una && cum <= this.max) {
      this.acked = cum - this.una;
      const resent = this.recs.some((r) => r.start < cum && r.flags & SEG_EVER_RETRANS);
      while (this.recs.length > 0 && this.end(0) <= cum) {
        if (!this.sacked(0)) {
          this.delivered += this.len(0);
          this.#delivered(0);
        }
        this.recs.shift();
      }
      if (this.recs.length > 0 && this.recs[0].start < cum) {
        if (!this.sacked(0)) this.delivered += cum - this.recs[0].start;
        this.recs[0].start = cum;
      }
      this.una = cum;
      if (resent) this.rttXmit = -1; // Karn: this ACK may answer a retransmission
    }
    for (const [bl, r] of blocks) {
      if (!(bl < r) || r > this.max) continue;
      const l = Math.max(bl, this.una);
      for (let i = 0; i < this.recs.length && this.recs[i].start < r; i++) {
        if (this.end(i) <= l || this.sacked(i)) continue;
        if (this.recs[i].start < l) {
          this.split(l);
          continue;
        }
        if (this.end(i) > r) this.split(r);
        const prevOpen = i > 0 && !this.sacked(i - 1) ? 1 : 0;
        const nextSacked = i + 1 < this.recs.length && this.sacked(i + 1) ? 1 : 0;
        if (prevOpen - nextSacked > 0 && this.holes() + prevOpen - nextSacked > this.maxHoles) {
          continue;
        }
        this.recs[i].flags = (this.recs[i].flags & ~(SEG_LOST | SEG_RETRANS)) | SEG_SACKED;
        this.newlySacked += this.len(i);
        this.delivered += this.len(i);
        this.highestSacked = Math.max(this.highestSacked, this.end(i));
        this.#delivered(i);
      }
    }
    this.highestSacked = Math.max(this.highestSacked, this.una);
  }

  retransmit(a: number, b: number, now: number): void {
    this.split(a);
    this.split(b);
    const order = ++this.sends;
    for (let i = 0; i < this.recs.length; i++) {
      const r = this.recs[i];
      if (r.start < a || r.start >= b) continue;
      r.flags |= SEG_EVER_RETRANS;
      if (!(r.flags & SEG_SACKED)) r.flags |= SEG_RETRANS;
      r.xmit = now;
      r.order = order;
    }
  }

  /** RFC 6675 IsLost for an octet of unSACKed record `i`. */
  isLost(i: number, smss: number): boolean {
    let count = 0, bytes = 0;
    for (let k = i + 1; k < this.recs.length; k++) {
      if (this.sacked(k)) {
        count++;
        bytes += this.len(k);
      }
    }
    return count >= 3 || bytes > 2 * smss;
  }

  markLost(smss: number): void {
    for (let i = 0; i < this.recs.length; i++) {
      if (!this.sacked(i) && this.isLost(i, smss)) this.recs[i].flags |= SEG_LOST;
    }
  }

  markLostAt(i: number): void {
    const r = this.recs[i];
    if (r.flags & SEG_SACKED) return;
    r.flags = (r.flags | SEG_LOST) & ~SEG_RETRANS;
  }

  resetAfterRto(forget: boolean): void {
    for (const r of this.recs) {
      r.flags &= ~SEG_RETRANS;
      if (forget) r.flags &= ~SEG_SACKED;
      if (!(r.flags & SEG_SACKED)) r.flags |= SEG_LOST;
    }
    if (forget) this.highestSacked = this.una;
  }

  /** SetPipe octet by octet. */
  pipe(highRxt: number, smss: number): number {
    let pipe = 0;
    for (let i = 0; i < this.recs.length; i++) {
      if (this.sacked(i)) continue;
      const lost = this.isLost(i, smss);
      for (let o = this.recs[i].start; o < this.end(i); o++) {
        if (!lost) pipe++;
        if (o < highRxt) pipe++;
      }
    }
    return pipe;
  }

  /** NextSeg rules 1 to 3 as [rule, start, end]. */
  nextSeg(highRxt: number, smss: number, newData: boolean): number[] {
    const from = Math.max(highRxt, this.una);
    const pick = (needLost: boolean): number[] | null => {
      for (let i = 0; i < this.recs.length; i++) {
        if (this.sacked(i) || this.end(i) <= from || this.recs[i].start >= this.highestSacked) {
          continue;
        }
        if (needLost && !this.isLost(i, smss)) continue;
        const s = Math.max(from, this.recs[i].start);
        let e = this.end(i), k = i;
        while (e < s + smss && k + 1 < this.recs.length && !this.sacked(k + 1)) e = this.end(++k);
        return [s, Math.min(e, s + smss)];
      }
      return null;
    };
    const one = pick(true);
    if (one) return [NEXT_SEG.LOST, ...one];
    if (newData) return [NEXT_SEG.NEW_DATA];
    const three = pick(false);
    return three ? [NEXT_SEG.UNSACKED, ...three] : [NEXT_SEG.NONE];
  }
}

const left = new Uint32Array(4);
const right = new Uint32Array(4);

function check(s: SentSegments, m: Model, base: number, ctx: string): void {
  const seq = (o: number) => (base + o) >>> 0;
  const got: number[][] = [];
  for (let i = 0; i < s.count; i++) {
    got.push([s.startAt(i), s.endAt(i), s.flagsAt(i), s.xmitAt(i), s.sendOrderAt(i)]);
  }
  const want = m.recs.map((r, i) => [seq(r.start), seq(m.end(i)), r.flags, r.xmit, r.order]);
  assert.deepEqual(got, want, ctx);
  assert.equal(s.sndUna, seq(m.una), ctx);
  assert.equal(s.sndMax, seq(m.max), ctx);
  assert.equal(s.sackedBytes, m.total(SEG_SACKED), ctx);
  assert.equal(s.sackedSegments, m.recs.filter((r) => r.flags & SEG_SACKED).length, ctx);
  assert.equal(s.lostBytes, m.total(SEG_LOST), ctx);
  assert.equal(s.retransBytes, m.total(SEG_RETRANS), ctx);
  assert.equal(s.holes, m.holes(), ctx);
  assert.ok(s.holes <= m.maxHoles, ctx);
  assert.equal(s.highestSacked, seq(m.highestSacked), ctx);
  const inFlight = m.max - m.una - m.total(SEG_SACKED) - m.total(SEG_LOST) + m.total(SEG_RETRANS);
  assert.equal(s.inFlight, inFlight, ctx);
}

Deno.test("SentSegments and SackScoreboard agree with a plain model over random sequences", () => {
  const rand = prng(6675);
  let sacks = 0, lost = 0, rule1 = 0, rule3 = 0, ignored = 0;
  for (let run = 0; run < 60; run++) {
    const base = (0xffffffff - rand(20000)) >>> 0; // most runs cross 2^32
    const maxHoles = 1 + rand(6);
    const smss = 100;
    const s = new SentSegments({ initialSeq: base, maxHoles, initialCapacity: 4 });
    const b = new SackScoreboard(s);
    const m = new Model(maxHoles);
    const seq = (o: number) => (base + o) >>> 0;
    let now = 0;
    for (let step = 0; step < 250; step++) {
      now += rand(5);
      const op = rand(10);
      const ctx = `run ${run} step ${step} op ${op}`;
      const out = m.max - m.una;
      if (op <= 2 || out === 0) {
        const len = 1 + rand(150);
        s.sent(s.sndMax, len, now);
        m.send(len, now);
      } else if (op <= 5) {
        // An ACK: maybe advancing, with up to 4 blocks, some odd.
        const cum = m.una + (rand(3) === 0 ? rand(out + 1) : 0);
        const blocks: number[][] = [];
        for (let k = rand(5); k > 0; k--) {
          const l = m.una - 50 + rand(out + 80);
          blocks.push([l, l + rand(300) - 20]);
        }
        blocks.forEach(([l, r], k) => {
          left[k] = seq(l);
          right[k] = seq(r);
        });
        s.onAck(seq(cum), left, right, blocks.length, now);
        m.ack(cum, blocks);
        assert.equal(s.ackedBytes, m.acked, ctx);
        assert.equal(s.newlySackedBytes, m.newlySacked, ctx);
        assert.equal(s.deliveredBytes, m.delivered, ctx);
        assert.equal(s.rttSampleMs, m.rttXmit < 0 ? -1 : now - m.rttXmit, ctx);
        sacks += m.newlySacked > 0 ? 1 : 0;
        ignored += s.sackIgnored ? 1 : 0;
      } else if (op === 6) {
        const a = m.una + rand(out), z = a + 1 + rand(Math.min(200, m.max - a));
        s.retransmitted(seq(a), z - a, now);
        m.retransmit(a, z, now);
      } else if (op === 7) {
        b.markLost(smss);
        m.markLost(smss);
      } else if (op === 8 && m.recs.length > 0) {
        const i = rand(m.recs.length);
        s.markLostAt(i, true);
        m.markLostAt(i);
        lost++;
      } else if (rand(8) === 0) {
        const forget = rand(2) === 0;
        s.resetAfterRto(forget);
        m.resetAfterRto(forget);
      }
      check(s, m, base, ctx);
      const highRxt = m.una + rand(out + 1);
      assert.equal(b.pipe(seq(highRxt), smss), m.pipe(highRxt, smss), ctx);
      const newData = rand(4) === 0;
      const want = m.nextSeg(highRxt, smss, newData);
      const rule = b.nextSeg(seq(highRxt), smss, newData);
      const got = rule === NEXT_SEG.LOST || rule === NEXT_SEG.UNSACKED
        ? [rule, b.segStart, b.segEnd]
        : [rule];
      assert.deepEqual(got, want.length === 3 ? [want[0], seq(want[1]), seq(want[2])] : want, ctx);
      if (rule === NEXT_SEG.LOST) rule1++;
      if (rule === NEXT_SEG.UNSACKED) rule3++;
    }
  }
  // The sequences reach every path the checks cover.
  assert.ok(
    sacks > 500 && lost > 100 && rule1 > 100 && rule3 > 100 && ignored > 20,
    `${[sacks, lost, rule1, rule3, ignored]}`,
  );
});
