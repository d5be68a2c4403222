"""A SYN, then a bare ACK, to a port nobody listens on: each must draw a RST
shaped as RFC 9293 section 3.10.7.1 says for a closed port:
- to the SYN (no ACK bit): <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, the SYN
  counting one;
- to the ACK: <SEQ=SEG.ACK><CTL=RST>.

  python3 syn_closed.py --iface veth0 --src 192.0.2.1 --dst 192.0.2.2 --dport 9
"""

from tcp_common import Conversation, describe, parser, verdict

args = parser(__doc__).parse_args()
with Conversation(args) as c:
    syn_seq = c.isn
    t = c.send("S", seq=syn_seq, ack=0)
    rst = c.wait(lambda s: s.flags.R, after=t)
    syn_ok = (rst is not None and rst.flags.A and rst.seq == 0
              and rst.ack == (syn_seq + 1) % 2**32)

    ack_value = (syn_seq + 12345) % 2**32
    t = c.send("A", seq=syn_seq + 1, ack=ack_value)
    rst2 = c.wait(lambda s: s.flags.R, after=t)
    ack_ok = rst2 is not None and not rst2.flags.A and rst2.seq == ack_value

verdict("syn_closed", syn_ok and ack_ok,
        syn={"sent_seq": syn_seq, "rst": describe(rst) if rst else None, "ok": syn_ok},
        ack={"sent_ack": ack_value, "rst": describe(rst2) if rst2 else None, "ok": ack_ok})
