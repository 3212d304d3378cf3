#!/usr/bin/env python3
"""A relay between a reader and euicc-sim's TCP bridge that corrupts RES.

The bridge's framing (simulators/vpcd): a 2-byte big-endian length, then the
payload, both ways. The relay passes every frame on unchanged, except the
card's answer to AUTHENTICATE (INS 88, TS 31.102 7.1.2): in a successful
3G answer 'DB' L RES ... it flips one bit of RES. The card has accepted AUTN
(the network's keys are right), so only the network's own RES == XRES check
(TS 33.102 6.3.3) can refuse the attach; tests/rig/rig_test.sh expects it
to.

    res_relay.py UPSTREAM_HOST:PORT     prints "listening 127.0.0.1:PORT"
"""
import socket
import sys
import threading


def read_frame(sock):
    head = b""
    while len(head) < 2:
        chunk = sock.recv(2 - len(head))
        if not chunk:
            return None
        head += chunk
    n = int.from_bytes(head, "big")
    body = b""
    while len(body) < n:
        chunk = sock.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return body


def write_frame(sock, payload):
    sock.sendall(len(payload).to_bytes(2, "big") + payload)


def serve(client, upstream_addr):
    upstream = socket.create_connection(upstream_addr, timeout=30)
    last_ins = [None]

    def to_card():
        try:
            while True:
                f = read_frame(client)
                if f is None:
                    break
                last_ins[0] = f[1] if len(f) >= 4 else None
                write_frame(upstream, f)
        except OSError:
            pass
        finally:
            try:
                upstream.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    t = threading.Thread(target=to_card, daemon=True)
    t.start()
    try:
        while True:
            f = read_frame(upstream)
            if f is None:
                break
            if last_ins[0] == 0x88 and len(f) > 4 and f[0] == 0xDB and f[-2:] == b"\x90\x00":
                f = bytearray(f)
                f[2] ^= 0x01  # the first byte of RES
                f = bytes(f)
            write_frame(client, f)
    except OSError:
        pass
    finally:
        client.close()
        upstream.close()
        t.join(timeout=5)


def main():
    host, _, port = sys.argv[1].rpartition(":")
    upstream_addr = (host, int(port))
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(1)
    print("listening 127.0.0.1:%d" % lsock.getsockname()[1], flush=True)
    while True:
        client, _ = lsock.accept()
        serve(client, upstream_addr)


if __name__ == "__main__":
    main()
