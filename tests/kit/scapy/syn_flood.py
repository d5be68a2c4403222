"""A SYN flood: COUNT SYNs to the peer's listening port from random addresses
in 198.51.100.0/24 (random ports and sequence numbers, sent at layer 2 to the
peer's MAC), then a real connection from this namespace's kernel must still
be accepted within --connect-timeout. (The peer's SYN-ACKs to the spoofed
addresses go nowhere: it has no route for them, or this namespace, not
forwarding, drops them.)

  python3 syn_flood.py --iface veth0 --src 192.0.2.1 --dst 192.0.2.2 --dport 7000 [--count 10000]
"""

import random
import socket
import struct
import time

from tcp_common import IP, TCP, Conversation, parser, verdict

p = parser(__doc__)
p.add_argument("--count", type=int, default=10000)
p.add_argument("--spoof-net", default="198.51.100.", help="prefix of the spoofed /24")
p.add_argument("--connect-timeout", type=float, default=10.0)
args = p.parse_args()
if args.count > 100000:
    verdict("syn_flood", False, error="count is bounded to 100000")
if not args.spoof_net.startswith(("198.51.100.", "192.0.2.", "203.0.113.")):
    verdict("syn_flood", False, error="spoofed addresses must be documentation addresses")



def checksum(data):
    """The Internet checksum (RFC 1071) of `data`."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


c = Conversation(args)
with c:
    # One SYN built by scapy, then patched per copy (source address, port, sequence
    # number, both checksums): scapy building each of 10 000 takes half a minute.
    template = bytearray(bytes(c.eth / IP(src=args.spoof_net + "1", dst=args.dst) / TCP(
        dport=args.dport, flags="S", window=65535, options=[("MSS", 1460)])))
    ip_off, tcp_off = 14, 14 + 20
    raw = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
    raw.bind((args.iface, 0))
    started = time.monotonic()
    dst = socket.inet_aton(args.dst)
    for _ in range(args.count):
        src = socket.inet_aton(args.spoof_net + str(random.randint(1, 254)))
        f = template
        f[ip_off + 12:ip_off + 16] = src
        f[ip_off + 10:ip_off + 12] = b"\0\0"
        f[ip_off + 10:ip_off + 12] = struct.pack("!H", checksum(bytes(f[ip_off:tcp_off])))
        struct.pack_into("!HHI", f, tcp_off, random.randint(1024, 65535), args.dport,
                         random.randint(0, 2**32 - 1))
        f[tcp_off + 16:tcp_off + 18] = b"\0\0"
        segment = bytes(f[tcp_off:])
        pseudo = src + dst + struct.pack("!BBH", 0, 6, len(segment))
        f[tcp_off + 16:tcp_off + 18] = struct.pack("!H", checksum(pseudo + segment))
        raw.send(f)
    raw.close()
    sent_s = round(time.monotonic() - started, 2)
    t_conn = time.monotonic()
    connected, error = False, None
    try:
        with socket.create_connection((args.dst, args.dport), timeout=args.connect_timeout,
                                      source_address=(args.src, 0)):
            connected = True
    except OSError as e:
        error = str(e)
    connect_ms = round((time.monotonic() - t_conn) * 1000, 1)
verdict("syn_flood", connected, sent=args.count, send_seconds=sent_s, connected=connected,
        connect_ms=connect_ms, error=error)
