"""Shared pieces of the TCP edge-case scripts: arguments, the peer's MAC, a raw
TCP conversation over scapy at layer 2, keeping this namespace's own kernel
from answering for it, and the one JSON verdict line each script prints.

The scripts run inside a network namespace the test made, with the peer on a
directly attached link; all waits are bounded. Both families work (the
destination's spelling decides).
"""

import argparse
import json
import random
import subprocess
import sys
import threading
import time

from scapy.all import (  # noqa: F401  (re-exported for the scripts)
    IP,
    TCP,
    Ether,
    IPv6,
    Raw,
    conf,
    get_if_hwaddr,
)

conf.verb = 0


def _fail_as_verdict(kind, value, tb):
    """An unexpected error still ends in one JSON line (the test reads that, not a traceback)."""
    import os
    import traceback
    traceback.print_exception(kind, value, tb)
    test = os.path.splitext(os.path.basename(sys.argv[0]))[0]
    print(json.dumps({"test": test, "ok": False, "error": f"{kind.__name__}: {value}"}), flush=True)


sys.excepthook = _fail_as_verdict


def parser(description):
    """Arguments every script takes."""
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--iface", required=True, help="the link to the peer (in this namespace)")
    p.add_argument("--src", required=True, help="our address (one this namespace holds)")
    p.add_argument("--dst", required=True, help="the peer's address")
    p.add_argument("--dport", type=int, required=True, help="the peer's port")
    p.add_argument("--sport", type=int, default=0, help="our port (default: random)")
    p.add_argument("--timeout", type=float, default=3.0, help="seconds to wait for each answer")
    return p


def verdict(test, ok, **details):
    """Prints the result line and exits 0 (ok) or 1."""
    print(json.dumps({"test": test, "ok": bool(ok), **details}), flush=True)
    sys.exit(0 if ok else 1)


def peer_mac(iface, dst):
    """The peer's MAC, learnt by this namespace's kernel (one ping resolves it)."""
    v6 = ":" in dst
    for _ in range(3):
        out = subprocess.run(
            ["ip", "-6" if v6 else "-4", "neigh", "show", "dev", iface, "to", dst],
            capture_output=True, text=True, timeout=10).stdout.split()
        if "lladdr" in out and ("FAILED" not in out and "INCOMPLETE" not in out):
            return out[out.index("lladdr") + 1]
        subprocess.run(["ping", "-6" if v6 else "-4", "-c", "1", "-W", "1", "-I", iface, dst],
                       capture_output=True, timeout=10)
    raise RuntimeError(f"no neighbour entry for {dst} on {iface}")


class KernelRstBlock:
    """Stops this namespace's kernel answering the peer's segments for our raw
    connection with RSTs (it knows no socket for them): an nftables rule drops
    RSTs the kernel would send from our port. Scapy sends at layer 2, which
    the output hook never sees, so our own RSTs still go out."""

    def __init__(self, src, sport):
        self.table = f"iopkt_scapy_{sport}"
        fam = "ip6" if ":" in src else "ip"
        self.rules = (f"table inet {self.table} {{\n chain out {{\n"
                      f"  type filter hook output priority 0;\n"
                      f"  {fam} saddr {src} tcp sport {sport} tcp flags rst drop\n }}\n}}\n")

    def __enter__(self):
        subprocess.run(["nft", "-f", "-"], input=self.rules, text=True, check=True, timeout=10)
        return self

    def __exit__(self, *exc):
        subprocess.run(["nft", "delete", "table", "inet", self.table], capture_output=True, timeout=10)


class Conversation:
    """One TCP conversation driven by hand: frames out at layer 2, the peer's
    segments (to our port, from its port) collected by a sniffer thread."""

    def __init__(self, args, sport=None):
        self.iface, self.src, self.dst = args.iface, args.src, args.dst
        self.dport = args.dport
        self.sport = sport or args.sport or random.randint(40000, 60999)
        self.timeout = args.timeout
        self.v6 = ":" in self.dst
        self.eth = Ether(src=get_if_hwaddr(self.iface), dst=peer_mac(self.iface, self.dst))
        self.received = []
        self.cond = threading.Condition()
        self.sniffer = None
        self.sock = None
        # Sequence state: ours (snd_nxt) and the peer's (rcv_nxt), once known.
        self.isn = random.randint(0, 2**32 - 1)
        self.snd_nxt = self.isn
        self.rcv_nxt = None

    def ip(self):
        return IPv6(src=self.src, dst=self.dst) if self.v6 else IP(src=self.src, dst=self.dst)

    def _mine(self, pkt):
        if TCP not in pkt:
            return False
        l3 = pkt[IPv6] if self.v6 and IPv6 in pkt else (pkt[IP] if IP in pkt else None)
        return (l3 is not None and l3.src == self.dst and l3.dst == self.src
                and pkt[TCP].sport == self.dport and pkt[TCP].dport == self.sport)

    def _got(self, pkt):
        if self._mine(pkt):
            with self.cond:
                self.received.append((time.monotonic(), pkt[TCP]))
                self.cond.notify_all()

    def __enter__(self):
        from scapy.all import AsyncSniffer
        started = threading.Event()
        self.sniffer = AsyncSniffer(iface=self.iface, prn=self._got, store=False,
                                    started_callback=started.set)
        self.sniffer.start()
        if not started.wait(10):
            raise RuntimeError("the sniffer did not start")
        self.sock = conf.L2socket(iface=self.iface)
        return self

    def __exit__(self, *exc):
        try:
            self.sniffer.stop()
        except Exception:
            pass
        if self.sock:
            self.sock.close()

    def send(self, flags, seq=None, ack=None, window=65535, payload=b"", options=None):
        """Sends one segment (seq defaults to snd_nxt, ack to rcv_nxt); advances snd_nxt
        when seq was defaulted."""
        tcp = TCP(sport=self.sport, dport=self.dport, flags=flags,
                  seq=self.snd_nxt if seq is None else seq % 2**32,
                  ack=(self.rcv_nxt or 0) if ack is None else ack % 2**32,
                  window=window, options=options or [])
        frame = self.eth / self.ip() / tcp
        if payload:
            frame = frame / Raw(payload)
        sent_at = time.monotonic()  # before sending: the answer may be timestamped before send returns
        self.sock.send(frame)
        if seq is None:
            self.snd_nxt = (self.snd_nxt + len(payload) + (1 if "S" in flags or "F" in flags else 0)) % 2**32
        return sent_at

    def wait(self, pred, timeout=None, after=0.0):
        """The first segment received at or after `after` that satisfies `pred`, or None."""
        deadline = time.monotonic() + (self.timeout if timeout is None else timeout)
        with self.cond:
            while True:
                for t, seg in self.received:
                    if t >= after and pred(seg):
                        return seg
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self.cond.wait(left)

    def segments(self, after=0.0):
        with self.cond:
            return [(t, s) for t, s in self.received if t >= after]

    def handshake(self, window=65535, mss=1460):
        """SYN, the peer's SYN-ACK, our ACK; returns the SYN-ACK or raises."""
        t = self.send("S", window=window, options=[("MSS", mss)])
        synack = self.wait(lambda s: s.flags.S and s.flags.A, after=t)
        if synack is None:
            raise RuntimeError("no SYN-ACK")
        if synack.ack != self.snd_nxt:
            raise RuntimeError(f"SYN-ACK acks {synack.ack}, expected {self.snd_nxt}")
        self.rcv_nxt = (synack.seq + 1) % 2**32
        self.send("A", window=window)
        return synack


def tcp_len(seg):
    """The segment's payload length from the IP length: scapy counts Ethernet padding as payload
    (a 1-byte IPv4 probe is padded to the 60-byte minimum frame)."""
    ip = seg.underlayer
    if ip is not None and hasattr(ip, "ihl") and ip.len is not None:
        return ip.len - ip.ihl * 4 - seg.dataofs * 4
    if ip is not None and hasattr(ip, "plen") and ip.plen is not None:
        return ip.plen - seg.dataofs * 4
    return len(bytes(seg.payload))


def describe(seg):
    """A segment as JSON-able facts."""
    return {"flags": str(seg.flags), "seq": seg.seq, "ack": seg.ack, "window": seg.window,
            "len": tcp_len(seg)}
