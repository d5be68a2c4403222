"""Out-of-order arrival: after the handshake, segments 2 and 3 are sent before
segment 1. The receiver must not acknowledge past the hole while it is open
(duplicate ACKs at RCV.NXT are expected), and once segment 1 arrives it must
acknowledge all three at once (a cumulative ACK of RCV.NXT + 3 * SIZE). The
payload is SIZE bytes of '1', then of '2', then of '3', so the listening
program's output shows whether they were delivered in order.

  python3 out_of_order.py --iface veth0 --src 192.0.2.1 --dst 192.0.2.2 --dport 7000 [--size 100]
"""

from tcp_common import Conversation, KernelRstBlock, describe, parser, verdict

p = parser(__doc__)
p.add_argument("--size", type=int, default=100, help="bytes per segment")
p.add_argument("--fin", action="store_true", help="send FIN after the data and expect it acked")
args = p.parse_args()
n = args.size
c = Conversation(args)
details = {"payload": "1" * n + "2" * n + "3" * n if n <= 20 else f"{n}x'1' {n}x'2' {n}x'3'"}
ok = False
with KernelRstBlock(args.src, c.sport), c:
    try:
        c.handshake()
    except RuntimeError as e:
        verdict("out_of_order", False, error=str(e))
    base = c.snd_nxt
    t0 = c.send("PA", seq=base + n, payload=b"2" * n)
    c.send("PA", seq=base + 2 * n, payload=b"3" * n)
    dup = c.wait(lambda s: s.flags.A and s.ack == base, after=t0)
    early = [describe(s) for _, s in c.segments(t0) if (s.ack - base) % 2**32 not in (0,)
             and (s.ack - base) % 2**32 < 2**31]
    t1 = c.send("PA", seq=base, payload=b"1" * n)
    full = c.wait(lambda s: s.flags.A and s.ack == (base + 3 * n) % 2**32, after=t1)
    c.snd_nxt = (base + 3 * n) % 2**32
    details.update(dup_ack=describe(dup) if dup else None,
                   acked_past_hole_early=early,
                   cumulative_ack=describe(full) if full else None)
    ok = full is not None and not early
    if args.fin:
        t2 = c.send("FA")
        fin_ack = c.wait(lambda s: s.flags.A and s.ack == c.snd_nxt, after=t2)
        details["fin_acked"] = fin_ack is not None
        ok = ok and fin_ack is not None
    c.send("R", ack=0)
verdict("out_of_order", ok, **details)
