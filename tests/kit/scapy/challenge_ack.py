"""RFC 5961 section 3: a RST whose sequence number is inside the receive window
but not exactly RCV.NXT must not reset the connection; the receiver answers
with a challenge ACK (<SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>). Section 4 asks
the same for a SYN in a synchronized state. After both, a data byte at the
right sequence number is still acknowledged (the connection lives), and a
RST at exactly RCV.NXT then ends it.

  python3 challenge_ack.py --iface veth0 --src 192.0.2.1 --dst 192.0.2.2 --dport 7000
"""

from tcp_common import Conversation, KernelRstBlock, describe, parser, verdict

p = parser(__doc__)
p.add_argument("--offset", type=int, default=100,
               help="how far past RCV.NXT the RST's sequence number lies (inside the window)")
args = p.parse_args()
details = {}
ok = False
c = Conversation(args)
with KernelRstBlock(args.src, c.sport), c:
    try:
        synack = c.handshake()
    except RuntimeError as e:
        verdict("challenge_ack", False, error=str(e))
    peer_snd_nxt = c.rcv_nxt
    is_challenge = (lambda s: s.flags.A and not s.flags.R and not s.flags.S
                    and s.ack == c.snd_nxt and s.seq == peer_snd_nxt)

    def challenged(flags):
        """Sends the in-window segment until a challenge ACK answers (at most 5 tries,
        0.6 s apart: RFC 5961 lets a receiver rate-limit challenge ACKs, and Linux
        sends at most one per net.ipv4.tcp_invalid_ratelimit, 500 ms)."""
        for tries in range(1, 6):
            t = c.send(flags, seq=c.snd_nxt + args.offset, ack=0)
            answer = c.wait(is_challenge, timeout=0.6, after=t)
            if answer is not None:
                return answer, tries
        return None, 5

    rst_answer, tries = challenged("R")
    details["rst"] = {"sent_seq": (c.snd_nxt + args.offset) % 2**32, "rcv_nxt": c.snd_nxt,
                      "challenge_ack": describe(rst_answer) if rst_answer else None,
                      "tries": tries}
    syn_answer, tries = challenged("S")
    details["syn"] = {"challenge_ack": describe(syn_answer) if syn_answer else None,
                      "tries": tries}

    t = c.send("PA", payload=b"x")
    data_ack = c.wait(lambda s: s.flags.A and not s.flags.R and s.ack == c.snd_nxt, after=t)
    reset_seen = any(s.flags.R for _, s in c.segments())
    details["alive"] = {"data_acked": data_ack is not None, "peer_reset": reset_seen}

    c.send("R", ack=0)
    ok = (rst_answer is not None and syn_answer is not None and data_ack is not None
          and not reset_seen)
verdict("challenge_ack", ok, **details)
