#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Hostile traffic of the test_attack_*.sh tests, run inside a namespace.

Packets are built with scapy once and sent through a raw IP socket (the
kernel fills in checksums), fast enough to fill tables and cross a flood
threshold; TCP that must be real uses the kernel's sockets.

    attack.py acks DST PORT N             N bare ACKs from N source ports
    attack.py hold DST PORT N DIR          open up to N connections (until one
                                           fails), send a byte on each, write the
                                           number made to DIR/held, keep them
                                           until DIR/release exists
    attack.py count-server ADDR PORT OUT  TCP server: bytes received, in OUT
    attack.py ssh-prefix DST PORT         "SSH-" four times, then 192 KiB
    attack.py pg-open DST PORT            the start of a 10000-byte PostgreSQL
                                           StartupMessage whose parameter name
                                           never ends, 1000 bytes at a time,
                                           then 192 KiB
    attack.py pg-client DST PORT          a PostgreSQL StartupMessage, 20 KB
    attack.py synflood DST PORT N BURSTS  BURSTS bursts of N SYNs from random
                                           (spoofed) sources, 1.1 s apart
    attack.py fragspray DST SECONDS RATE  first fragments, a new IP id each,
                                           RATE a second
    attack.py fraglegit DST PORT N GAP_MS SIZE
                                           N UDP datagrams of SIZE bytes in
                                           fragments, the later ones GAP_MS
                                           after the first
    attack.py text-server ADDR PORT OUT   TCP server: the bytes received, appended
                                           to OUT
    attack.py overlap DST PORT            a kernel connection, then segments under
                                           it: "index.html..." out of order, the
                                           same start again with "admin.html...",
                                           then "GET /" into the gap
    attack.py udp-count ADDR PORT OUT     UDP server: datagrams, in OUT
    attack.py udp-log ADDR PORT OUT       UDP server: each datagram's payload, a
                                           line each, in OUT

Each prints one line saying what it did.
"""
import os
import random
import socket
import struct
import sys
import threading
import time


def scapy():
    import scapy.all as s
    s.conf.verb = 0
    return s


def raw_socket():
    return socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_RAW)


def send_raw(sock, frames, dst):
    sent = 0
    for f in frames:
        try:
            sock.sendto(f, (dst, 0))
            sent += 1
        except OSError:
            pass
    return sent


def acks(dst, port, n):
    s = scapy()
    frames = [bytes(s.IP(dst=dst) / s.TCP(sport=20000 + i, dport=port, flags="A",
                                          seq=random.getrandbits(32), ack=random.getrandbits(32)))
              for i in range(n)]
    sent = send_raw(raw_socket(), frames, dst)
    print(f"acks: {sent} bare ACKs to {dst}:{port} from ports 20000-{20000 + n - 1}")


def hold(dst, port, n, folder):
    socks = []
    for _ in range(n):
        c = socket.socket()
        c.settimeout(2)
        try:
            c.connect((dst, port))
        except OSError:
            c.close()
            break
        socks.append(c)
    # a byte each way's worth: the server's ACK shows the data plane both directions
    for c in socks:
        try:
            c.send(b"x")
        except OSError:
            pass
    time.sleep(0.5)
    with open(os.path.join(folder, "held.tmp"), "w") as f:
        f.write(f"{len(socks)}\n")
    os.rename(os.path.join(folder, "held.tmp"), os.path.join(folder, "held"))
    print(f"hold: {len(socks)} connections to {dst}:{port}", flush=True)
    while not os.path.exists(os.path.join(folder, "release")):
        time.sleep(0.05)
    for c in socks:
        c.close()


def count_server(addr, port, out):
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(64)
    total = 0
    while True:
        c, _ = srv.accept()
        c.settimeout(5)
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                total += len(b)
                with open(out + ".tmp", "w") as f:
                    f.write(f"{total}\n")
                os.rename(out + ".tmp", out)
        except OSError:
            pass
        c.close()


def text_server(addr, port, out):
    """Each connection's bytes, as they arrive, appended to OUT (a thread
    per connection: one whose end never comes does not hold the next)."""
    def serve(c):
        c.settimeout(10)
        try:
            while True:
                b = c.recv(65536)
                if not b:
                    break
                with open(out, "ab") as f:
                    f.write(b)
        except OSError:
            pass
        c.close()

    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind((addr, port))
    srv.listen(8)
    while True:
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c,), daemon=True).start()


def overlap(dst, port):
    """A connection made by the kernel, then segments written under it:
    "index.html ..." out of order after a gap of 5 bytes, the same start
    again covering it with "admin.html ...", then "GET /" into the gap.
    Linux lets the covering segment replace the queued one, so a receiver
    reads "GET /admin.html" unless the second never reaches it."""
    s = scapy()
    sniff = s.AsyncSniffer(iface="eth0", filter=f"tcp and host {dst} and port {port}")
    sniff.start()
    time.sleep(0.5)
    c = socket.create_connection((dst, port), timeout=5)
    time.sleep(0.3)
    got = sniff.stop()
    syn = [p for p in got if p.haslayer(s.TCP) and p[s.TCP].flags == "S"]
    synack = [p for p in got if p.haslayer(s.TCP) and p[s.TCP].flags == "SA"]
    if not syn or not synack:
        sys.exit(f"overlap: handshake not seen ({len(got)} frames)")
    sport = syn[0][s.TCP].sport
    seq = syn[0][s.TCP].seq + 1
    ack = synack[0][s.TCP].seq + 1

    def seg(off, data):
        return bytes(s.IP(dst=dst) / s.TCP(sport=sport, dport=port, flags="PA",
                                           seq=(seq + off) & 0xffffffff, ack=ack,
                                           window=65535) / s.Raw(data))
    held = b"index.html HTTP/1.1\r\nHost: a\r\n\r\n"
    cover = b"admin.html HTTP/1.1\r\nHost: a\r\nX-Evil: 1\r\n\r\n"
    sock = raw_socket()
    for off, data in ((5, held), (5, cover), (5, cover), (0, b"GET /")):
        send_raw(sock, [seg(off, data)], dst)
        time.sleep(0.2)
    time.sleep(0.5)
    c.close()
    print(f"overlap: held {len(held)} bytes at +5, covered them with {len(cover)}, "
          f"filled the gap, from port {sport}")


def client(dst, port, pieces):
    c = socket.create_connection((dst, port), timeout=5)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    sent = 0
    try:
        for p in pieces:
            c.sendall(p)
            sent += len(p)
            time.sleep(0.05)
        time.sleep(0.3)
    except OSError as e:
        return sent, str(e)
    finally:
        c.close()
    return sent, "no error"


def ssh_prefix(dst, port):
    sent, err = client(dst, port, [b"SSH-"] * 4 + [os.urandom(65536) for _ in range(3)])
    print(f"ssh-prefix: {sent} bytes written to {dst}:{port} ({err})")


def pg_open(dst, port):
    head = struct.pack("!II", 10000, 0x00030000) + b"user"
    sent, err = client(dst, port, [head] + [b"x" * 1000] * 6 + [b"x" * 65536 for _ in range(3)])
    print(f"pg-open: {sent} bytes written to {dst}:{port} ({err})")


def pg_client(dst, port):
    params = b"user\0postgres\0database\0postgres\0\0"
    startup = struct.pack("!II", 8 + len(params), 0x00030000) + params
    sent, err = client(dst, port, [startup] + [b"Q" * 5000 for _ in range(4)])
    print(f"pg-client: {sent} bytes written to {dst}:{port} ({err})")


def worker_of(src, dst, workers):
    """The data plane's fanout (dp/io/ring.c): source XOR destination, modulo workers."""
    a = int.from_bytes(socket.inet_aton(src), "big")
    b = int.from_bytes(socket.inet_aton(dst), "big")
    return (a ^ b) % workers


def synflood(dst, port, n, bursts):
    s = scapy()
    sock = raw_socket()
    total, most = 0, 0
    for b in range(bursts):
        srcs = [f"198.18.{random.randint(0, 255)}.{random.randint(1, 254)}" for _ in range(n)]
        frames = [bytes(s.IP(src=a, dst=dst) /
                        s.TCP(sport=random.randint(1024, 65535), dport=port, flags="S",
                              seq=random.getrandbits(32)))
                  for a in srcs]
        at0 = sum(1 for a in srcs if worker_of(a, dst, 2) == 0)
        most = max(most, at0, n - at0)
        t0 = time.monotonic()
        total += send_raw(sock, frames, dst)
        took = time.monotonic() - t0
        if b + 1 < bursts:
            time.sleep(max(0.0, 1.1 - took))
    print(f"synflood: {total} SYNs to {dst}:{port} from random sources, {bursts} bursts; "
          f"of two workers, one got at most {most} of a burst")


def frag_room():
    """Bytes of IP payload a fragment may carry through eth0: its MTU less the header, by 8."""
    with open("/sys/class/net/eth0/mtu") as f:
        return (int(f.read()) - 20) & ~7


def first_fragment(s, dst, dport, ident, size):
    udp = bytes(s.UDP(sport=40000, dport=dport, len=8 + size, chksum=0)) + b"f" * (frag_room() - 8)
    return bytearray(bytes(s.IP(dst=dst, id=ident, flags="MF", frag=0, proto=17) / s.Raw(udp)))


def fragspray(dst, seconds, rate):
    s = scapy()
    sock = raw_socket()
    frame = first_fragment(s, dst, 9, 1, 4000)
    sent, ident, t0 = 0, 0, time.monotonic()
    while time.monotonic() < t0 + seconds:
        for _ in range(100):
            ident = (ident + 1) & 0xffff
            frame[4:6] = ident.to_bytes(2, "big")
            try:
                sock.sendto(frame, (dst, 0))
                sent += 1
            except OSError:
                pass
        ahead = t0 + sent / rate - time.monotonic()
        if ahead > 0:
            time.sleep(ahead)
        elif ahead < -0.05:
            # behind (the machine is busy): go on at the rate from now,
            # never in a burst that makes up for lost time
            t0 = time.monotonic() - sent / rate
    print(f"fragspray: {sent} first fragments to {dst} in {seconds} s")


def fraglegit(dst, port, n, gap_ms, size):
    """n datagrams in fragments, the later ones gap_ms after the first; says
    how many of them were late (a gap over twice gap_ms and 50 ms more: a
    busy machine's sleep), which a spray between the fragments may have
    cost their verdict."""
    s = scapy()
    sock = raw_socket()
    late = 0
    for i in range(n):
        payload = (b"%06d" % i) * (size // 6)
        pkt = s.IP(dst=dst, id=random.randint(1, 65535)) / s.UDP(sport=41000, dport=port) / payload
        frags = [bytes(f) for f in s.fragment(pkt, fragsize=frag_room())]
        t0 = time.monotonic()
        send_raw(sock, frags[:1], dst)
        time.sleep(gap_ms / 1000.0)
        send_raw(sock, frags[1:], dst)
        late += time.monotonic() - t0 > (2 * gap_ms + 50) / 1000.0
        time.sleep(0.01)
    print(f"fraglegit: {n} datagrams of {size} bytes to {dst}:{port}, later fragments "
          f"{gap_ms} ms after the first; late={late}")


def udp_count(addr, port, out):
    srv = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    srv.bind((addr, port))
    n = 0
    while True:
        srv.recv(65536)
        n += 1
        with open(out + ".tmp", "w") as f:
            f.write(f"{n}\n")
        os.rename(out + ".tmp", out)


def udp_log(addr, port, out):
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    srv = socket.socket(fam, socket.SOCK_DGRAM)
    srv.bind((addr, port))
    while True:
        data = srv.recv(65536)
        with open(out, "a") as f:
            f.write(data.decode(errors="replace") + "\n")


def main(argv):
    cmd, args = argv[1], argv[2:]
    if cmd == "acks":
        acks(args[0], int(args[1]), int(args[2]))
    elif cmd == "hold":
        hold(args[0], int(args[1]), int(args[2]), args[3])
    elif cmd == "count-server":
        count_server(args[0], int(args[1]), args[2])
    elif cmd == "ssh-prefix":
        ssh_prefix(args[0], int(args[1]))
    elif cmd == "pg-open":
        pg_open(args[0], int(args[1]))
    elif cmd == "pg-client":
        pg_client(args[0], int(args[1]))
    elif cmd == "synflood":
        synflood(args[0], int(args[1]), int(args[2]), int(args[3]))
    elif cmd == "fragspray":
        fragspray(args[0], float(args[1]), float(args[2]))
    elif cmd == "fraglegit":
        fraglegit(args[0], int(args[1]), int(args[2]), int(args[3]), int(args[4]))
    elif cmd == "text-server":
        text_server(args[0], int(args[1]), args[2])
    elif cmd == "overlap":
        overlap(args[0], int(args[1]))
    elif cmd == "udp-count":
        udp_count(args[0], int(args[1]), args[2])
    elif cmd == "udp-log":
        udp_log(args[0], int(args[1]), args[2])
    else:
        sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    main(sys.argv)
