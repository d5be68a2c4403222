"""Zero-window probing (RFC 9293 section 3.8.6.1): the peer sends us data (it
sends on connect, or after --request); we take what fits a small window, then
acknowledge it all with a window of 0. The peer must stop sending new data and,
within the persist time, probe the window: either a segment at SND.UNA - 1
with no data (Linux) or one byte at SND.UNA (BSD); we answer each probe with
window 0 again. Finally we open the window and expect new data to resume at
RCV.NXT.

  python3 zero_window.py --iface veth0 --src 192.0.2.1 --dst 192.0.2.2 --dport 7001 \
      [--request 'GET /bytes/1000000 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'] [--persist-timeout 10]
"""

import time

from tcp_common import Conversation, KernelRstBlock, describe, parser, tcp_len, verdict

p = parser(__doc__)
p.add_argument("--window", type=int, default=2048, help="our first (small) window")
p.add_argument("--mss", type=int, default=536)
p.add_argument("--request", default="", help="bytes to send after the handshake (\\r\\n understood)")
p.add_argument("--persist-timeout", type=float, default=10.0,
               help="seconds within which the first probe must come")
args = p.parse_args()
c = Conversation(args)
details = {}
ok = False
with KernelRstBlock(args.src, c.sport), c:
    try:
        c.handshake(window=args.window, mss=args.mss)
    except RuntimeError as e:
        verdict("zero_window", False, error=str(e))
    start_rcv = c.rcv_nxt
    if args.request:
        c.send("PA", window=args.window,
               payload=args.request.encode().decode("unicode_escape").encode("latin-1"))

    # Take in-order data until the window is full (or the peer pauses), acking with the small window.
    edge = (start_rcv + args.window) % 2**32
    deadline = time.monotonic() + 10 * args.timeout
    seen = 0
    while c.rcv_nxt != edge and time.monotonic() < deadline:
        seg = c.wait(lambda s: tcp_len(s) > 0 and s.seq == c.rcv_nxt, timeout=args.timeout)
        if seg is None:
            break
        c.rcv_nxt = (c.rcv_nxt + tcp_len(seg)) % 2**32
        seen += 1
        if c.rcv_nxt != edge:
            left = (edge - c.rcv_nxt) % 2**32
            c.send("A", window=left)
    taken = (c.rcv_nxt - start_rcv) % 2**32
    details["taken_before_zero"] = taken
    if taken == 0:
        verdict("zero_window", False, error="the peer sent no data", **details)

    t_zero = c.send("A", window=0)
    # The first segment after the zero window must be a probe (no new data past RCV.NXT + 1).
    probe = c.wait(lambda s: True, timeout=args.persist_timeout, after=t_zero)

    def is_probe(s):
        n = tcp_len(s)
        return ((n == 0 and s.seq == (c.rcv_nxt - 1) % 2**32)
                or (n <= 1 and s.seq == c.rcv_nxt))

    probes = []
    if probe is not None and is_probe(probe):
        probes.append(describe(probe))
        # Answer it, still closed, and expect another later (the persist timer backs off).
        t_ans = c.send("A", window=0)
        again = c.wait(is_probe, timeout=args.persist_timeout, after=t_ans)
        if again is not None:
            probes.append(describe(again))
    first_delay = None
    for t, s in c.segments(t_zero):
        if is_probe(s):
            first_delay = round(t - t_zero, 3)
            break
    overran = [describe(s) for _, s in c.segments(t_zero)
               if tcp_len(s) > 1 and (s.seq - c.rcv_nxt) % 2**32 < 2**31]
    details.update(probes=probes, first_probe_after_s=first_delay, data_into_zero_window=overran)

    # Open the window: data must resume at RCV.NXT (a 1-byte BSD probe may already hold it).
    t_open = c.send("A", window=65535)
    resumed = c.wait(lambda s: tcp_len(s) > 0
                     and (s.seq == c.rcv_nxt or s.seq == (c.rcv_nxt + 1) % 2**32),
                     timeout=args.persist_timeout, after=t_open)
    details["resumed"] = describe(resumed) if resumed else None
    c.send("R", ack=0)
    ok = len(probes) >= 1 and not overran and resumed is not None
verdict("zero_window", ok, **details)
