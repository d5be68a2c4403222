import assert from "node:assert/strict";
import { ProportionalRateReduction } from "../../core/transport/tcp/congestion/prr.ts";

const MSS = 1000;

/**
 * Plays a recovery: each ACK delivers one segment; the sender sends whole
 * segments while sndcnt allows, and keeps its own pipe (minus what was
 * delivered, plus what it sent). Returns the segments sent per ACK and the
 * pipe at the end.
 */
function play(prr: ProportionalRateReduction, pipe: number, acks: number): [number[], number] {
  const sent: number[] = [];
  for (let i = 0; i < acks; i++) {
    if (i > 0) pipe -= MSS; // the first ACK's pipe is given already net of its delivery
    const sndcnt = prr.onAck(MSS, pipe);
    const segments = Math.floor(sndcnt / MSS);
    prr.onSent(segments * MSS);
    pipe += segments * MSS;
    sent.push(segments);
  }
  return [sent, pipe];
}

Deno.test("PRR, one loss in a window of 20 (RFC 6937 §6's example, by hand): one segment per two ACKs down to ssthresh", () => {
  // 20 segments in flight, the first lost, NewReno's ssthresh = 10. The third
  // SACKed duplicate ACK (segment 4) starts recovery with RFC 6675's
  // pipe = 20 - 3 SACKed - 1 lost = 16. Hand-computed, per ACK (segments 4..20):
  //   prr_delivered 1..12: pipe > ssthresh, sndcnt = ceil(delivered*10/20) - prr_out
  //     ACK  4: ceil(0.5)=1 - 0 = 1 (the fast retransmit)   pipe 16 -> 17
  //     ACK  5: ceil(1.0)=1 - 1 = 0                         pipe 16
  //     ACK  6: ceil(1.5)=2 - 1 = 1                         pipe 15 -> 16  ... and so on
  //   ACK 16: pipe 10 = ssthresh: SSRB, min(ssthresh - pipe = 0, ...) = 0
  //   ACKs 17..20: pipe 9: min(1, max(delivered - out, 1) + 1) = 1 each, pipe held at 10.
  const prr = new ProportionalRateReduction();
  prr.start(20 * MSS, 10 * MSS, MSS);
  const [sent, pipe] = play(prr, 16 * MSS, 17);
  assert.deepEqual(sent, [1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 0, 1, 1, 1, 1]);
  assert.equal(pipe, 10 * MSS); // exactly ssthresh when the retransmission is acked
  assert.equal(prr.delivered, 17 * MSS);
  assert.equal(prr.out, 10 * MSS);
});

Deno.test("PRR-SSRB, six losses in a window of 20: catches up to ssthresh, one segment per ACK after", () => {
  // Segments 1..6 lost; the SACK of segment 9 starts recovery with pipe = 20 - 3 - 6 = 11.
  //   ACK  9: pipe 11 > 10: ceil(0.5)=1 - 0 = 1                    pipe 12
  //   ACK 10: pipe 11 > 10: ceil(1.0)=1 - 1 = 0                    pipe 11
  //   ACK 11: pipe 10: SSRB min(10 - 10, max(3 - 1, 1) + 1) = 0    pipe 10
  //   ACK 12: pipe 9:  SSRB min(10 - 9,  max(4 - 1, 1) + 1) = 1    pipe 10  ... to ACK 20.
  const prr = new ProportionalRateReduction();
  prr.start(20 * MSS, 10 * MSS, MSS);
  const [sent, pipe] = play(prr, 11 * MSS, 12);
  assert.deepEqual(sent, [1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
  assert.equal(pipe, 10 * MSS);
  assert.equal(prr.out, 10 * MSS);
});

Deno.test("PRR with CUBIC's ssthresh (0.7): sends 7 segments for every 10 delivered", () => {
  const prr = new ProportionalRateReduction();
  prr.start(20 * MSS, 14 * MSS, MSS);
  const sent: number[] = [];
  for (let i = 0; i < 10; i++) {
    const n = Math.floor(prr.onAck(MSS, 19 * MSS) / MSS); // pipe stays above ssthresh
    prr.onSent(n * MSS);
    sent.push(n);
  }
  // Cumulative ceil(0.7 * delivered): 1 2 3 3 4 5 5 6 7 7.
  assert.deepEqual(sent, [1, 1, 1, 0, 1, 1, 0, 1, 1, 0]);
  assert.equal(prr.out, 7 * MSS);
});

Deno.test("PRR-SSRB bound: at most one segment more than delivered when pipe fell far below ssthresh", () => {
  const prr = new ProportionalRateReduction();
  prr.start(20 * MSS, 10 * MSS, MSS);
  assert.equal(prr.onAck(MSS, 16 * MSS), MSS);
  prr.onSent(MSS);
  // A cumulative ACK delivers five segments and pipe drops to 3: limit = max(6 - 1, 5) + 1 = 6.
  assert.equal(prr.onAck(5 * MSS, 3 * MSS), 6 * MSS);
  prr.onSent(6 * MSS);
  // pipe 8: ssthresh - pipe = 2, limit = max(7 - 7, 1) + 1 = 2.
  assert.equal(prr.onAck(MSS, 8 * MSS), 2 * MSS);
  // Not sent; the next ACK with pipe 9 allows ssthresh - pipe = 1 only.
  assert.equal(prr.onAck(MSS, 9 * MSS), MSS);
  // Partial segments are bytes: 500 delivered at pipe 9.5 segments.
  assert.equal(prr.onAck(500, 9500), 500);
});

Deno.test("PRR: the first ACK of a recovery always allows the fast retransmit; nothing is negative", () => {
  const prr = new ProportionalRateReduction();
  prr.start(20 * MSS, 10 * MSS, MSS);
  assert.equal(prr.onAck(0, 19 * MSS), MSS); // nothing delivered yet (RACK found the loss)
  prr.onSent(MSS);
  assert.equal(prr.onAck(0, 20 * MSS), 0);
  prr.onSent(3 * MSS); // the sender overshot (a retransmission it had to send)
  assert.equal(prr.onAck(MSS, 22 * MSS), 0); // ceil(0.5) - 4 is negative: 0
  assert.equal(prr.onAck(MSS, 12 * MSS), 0);
});

Deno.test("PRR: start resets the episode; onSent outside one is ignored", () => {
  const prr = new ProportionalRateReduction();
  assert.equal(prr.active, false);
  prr.onSent(5000);
  assert.equal(prr.out, 0);
  prr.start(10 * MSS, 5 * MSS, MSS);
  assert.equal(prr.active, true);
  assert.equal(prr.recoverFs, 10 * MSS);
  prr.onAck(2 * MSS, 8 * MSS);
  prr.onSent(MSS);
  assert.deepEqual([prr.delivered, prr.out], [2 * MSS, MSS]);
  prr.end();
  assert.equal(prr.active, false);
  prr.onSent(MSS);
  assert.equal(prr.out, MSS);
  prr.start(0, 2 * MSS, MSS); // an empty flight counts as one segment: never a division by zero
  assert.deepEqual([prr.delivered, prr.out, prr.recoverFs], [0, 0, MSS]);
  assert.equal(prr.onAck(MSS, 4 * MSS), 2 * MSS); // ceil(1000 * 2000 / 1000) segments' worth
});
