#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""A real client's request written in pieces, for the stream tests.

Run inside a test namespace, bounded by the caller's timeout:

    stream_traffic.py cuts DST PORT PAUSE FILE CUTS
        the bytes of FILE over one TCP connection (TCP_NODELAY), cut at
        the offsets CUTS ("2,17" or "each": one byte per send()), PAUSE s
        between send() calls; then the server's answer until it closes
    stream_traffic.py tls-cut DST PORT SNI PAUSE
        a TLS handshake by the ssl module (OpenSSL) with server_name SNI,
        its ClientHello written in three pieces: inside the record header,
        just before the server_name extension, inside the name; then
        "GET / HTTP/1.0" and the server's answer
    stream_traffic.py pcap-edit IN OUT MODE CLIENT
        the capture IN rewritten to OUT: the data segments that the IPv4
        address CLIENT sent over TCP, as its stack cut them, are
          reverse   delivered in reverse order (the frames move, the
                    timestamps stay in their places)
          twice     each followed by a copy of itself (a retransmission)
          merge     the second followed by one segment that resends the
                    first and the second together (an overlap that agrees)
          conflict  the second followed by a copy with other bytes (an
                    overlap that does not agree)
        and the new frame's checksums computed again

Each prints one line saying what it sent and how the server answered; the
server's answer goes to the file $STREAM_ANSWER when it is set.
"""
import os
import socket
import ssl
import struct
import sys
import time


def connect(dst, port):
    c = socket.create_connection((dst, port), timeout=5)
    c.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return c


def send_cut(c, data, cuts, pause):
    """data in pieces at the offsets cuts, pause s apart; the piece count."""
    edges = [0] + [x for x in cuts if 0 < x < len(data)] + [len(data)]
    for i in range(len(edges) - 1):
        if i:
            time.sleep(pause)
        c.sendall(data[edges[i]:edges[i + 1]])
    return len(edges) - 1


def read_all(c):
    got = b""
    c.settimeout(5)
    while True:
        try:
            more = c.recv(65536)
        except socket.timeout:
            break
        if not more:
            break
        got += more
    return got


def answered(got):
    path = os.environ.get("STREAM_ANSWER")
    if path:
        with open(path, "wb") as f:
            f.write(got)
    line = got.split(b"\r\n", 1)[0][:60]
    return line.decode("latin-1") if line else "nothing"


def cuts(dst, port, pause, path, spec):
    with open(path, "rb") as f:
        data = f.read()
    offs = range(1, len(data)) if spec == "each" else [int(x) for x in spec.split(",")]
    with connect(dst, port) as c:
        n = send_cut(c, data, offs, pause)
        c.shutdown(socket.SHUT_WR)
        got = read_all(c)
    print(f"cuts: {len(data)} bytes in {n} pieces to {dst}:{port}; answer: {answered(got)}")


def tls_cut(dst, port, sni, pause):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    rd, wr = ssl.MemoryBIO(), ssl.MemoryBIO()
    t = ctx.wrap_bio(rd, wr, server_hostname=sni)
    first = True
    with connect(dst, port) as c:
        while True:
            try:
                t.do_handshake()
                done = True
            except ssl.SSLWantReadError:
                done = False
            out = wr.read()
            if out and first:
                name = out.find(sni.encode())
                if name < 9:
                    raise SystemExit(f"tls-cut: no server_name {sni} in the ClientHello")
                # the extension's type, length, list length, name type, name length
                send_cut(c, out, [3, name - 9, name + 2], pause)
                hello, first = len(out), False
            elif out:
                c.sendall(out)
            if done:
                break
            more = c.recv(65536)
            if not more:
                raise SystemExit("tls-cut: the server closed during the handshake")
            rd.write(more)
        t.write(b"GET / HTTP/1.0\r\n\r\n")
        c.sendall(wr.read())
        got = b""
        c.settimeout(5)
        while True:
            try:
                more = c.recv(65536)
            except socket.timeout:
                break
            if not more:
                break
            rd.write(more)
            try:
                while True:
                    more = t.read(65536)
                    if not more:
                        break
                    got += more
            except (ssl.SSLWantReadError, ssl.SSLZeroReturnError):
                pass
    print(f"tls-cut: ClientHello of {hello} bytes to {dst}:{port} cut before server_name "
          f"{sni}; {t.version()}; answer: {answered(got)}")


def csum(b):
    if len(b) % 2:
        b += b"\0"
    n = sum(struct.unpack(">%dH" % (len(b) // 2), b))
    while n >> 16:
        n = (n & 0xffff) + (n >> 16)
    return ~n & 0xffff


def tcp_frame(f, seq, payload):
    """Ethernet + IPv4 + TCP frame f with seq and payload; checksums anew."""
    ihl, thl = (f[14] & 15) * 4, (f[14 + (f[14] & 15) * 4 + 12] >> 4) * 4
    ip, tcp = bytearray(f[14:14 + ihl]), bytearray(f[14 + ihl:14 + ihl + thl])
    struct.pack_into(">H", ip, 2, ihl + thl + len(payload))
    struct.pack_into(">H", ip, 10, 0)
    struct.pack_into(">H", ip, 10, csum(bytes(ip)))
    struct.pack_into(">I", tcp, 4, seq)
    struct.pack_into(">H", tcp, 16, 0)
    pseudo = ip[12:20] + struct.pack(">BBH", 0, 6, thl + len(payload))
    struct.pack_into(">H", tcp, 16, csum(bytes(pseudo + tcp) + payload))
    return f[:14] + bytes(ip) + bytes(tcp) + payload


def tcp_data(f, client):
    """(seq, payload) of a TCP data segment from client, else None."""
    if f[12:14] != b"\x08\x00" or f[23] != 6 or f[26:30] != client:
        return None
    ihl = (f[14] & 15) * 4
    thl = (f[14 + ihl + 12] >> 4) * 4
    end = 14 + struct.unpack(">H", f[16:18])[0]
    if end <= 14 + ihl + thl:
        return None
    return struct.unpack(">I", f[14 + ihl + 4:14 + ihl + 8])[0], f[14 + ihl + thl:end]


def pcap_edit(src, dst, mode, client):
    data = open(src, "rb").read()
    e = "<" if struct.unpack("<I", data[:4])[0] in (0xa1b2c3d4, 0xa1b23c4d) else ">"
    recs, off = [], 24
    while off + 16 <= len(data):
        hdr = data[off:off + 16]
        n = struct.unpack(e + "I", hdr[8:12])[0]
        recs.append([hdr, data[off + 16:off + 16 + n]])
        off += 16 + n
    me = socket.inet_aton(client)
    segs = [i for i, r in enumerate(recs) if tcp_data(r[1], me)]
    if len(segs) < 2:
        raise SystemExit(f"pcap-edit: {len(segs)} data segment(s) from {client}, 2 needed")
    out = list(recs)

    def at(i, frame):
        """frame with the timestamp of record i"""
        return [recs[i][0][:8] + struct.pack(e + "II", len(frame), len(frame)), frame]

    def after(i, frame):
        out.insert(out.index(recs[i]) + 1, at(i, frame))

    if mode == "reverse":
        frames = [recs[i][1] for i in segs][::-1]
        for i, f in zip(segs, frames):
            out[i] = at(i, f)
    elif mode == "twice":
        for i in segs:
            after(i, recs[i][1])
    elif mode in ("merge", "conflict"):
        (s0, p0), (s1, p1) = tcp_data(recs[segs[0]][1], me), tcp_data(recs[segs[1]][1], me)
        f = recs[segs[1]][1]
        if mode == "merge":
            after(segs[1], tcp_frame(f, s0, p0 + p1))
        else:
            other = bytes(b"x"[0] if c != b"x"[0] else b"y"[0] for c in p1)
            after(segs[1], tcp_frame(f, s1, other))
    else:
        raise SystemExit(__doc__)
    with open(dst, "wb") as f:
        f.write(data[:24])
        for hdr, frame in out:
            f.write(hdr + frame)
    print(f"pcap-edit: {mode}: {len(segs)} data segments from {client}, {len(out)} frames")


def main(a):
    cmds = {
        "cuts": (cuts, [str, int, float, str, str]),
        "tls-cut": (tls_cut, [str, int, str, float]),
        "pcap-edit": (pcap_edit, [str, str, str, str]),
    }
    if not a or a[0] not in cmds or len(a) - 1 != len(cmds[a[0]][1]):
        raise SystemExit(__doc__)
    fn, types = cmds[a[0]]
    fn(*[t(v) for t, v in zip(types, a[1:])])


if __name__ == "__main__":
    main(sys.argv[1:])
