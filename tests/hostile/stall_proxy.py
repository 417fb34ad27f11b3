#!/usr/bin/env python3
"""stall_proxy.py: a TCP proxy to a smart-HTTP Git server that stalls mid-transfer.

Forwards everything from the client to 127.0.0.1:TARGET. From the server back to the
client it forwards everything until the client has sent a POST (git-upload-pack, the
request whose answer is the pack); of that answer it forwards AFTER bytes, then holds the
connection open without sending anything more. Prints "PORT <n>" once it listens.

    stall_proxy.py TARGET_PORT [--after N]
"""
import argparse
import socket
import sys
import threading
import time

HOLD_SECONDS = 120


def pump_up(c, s, state):
    try:
        while True:
            d = c.recv(65536)
            if not d:
                break
            if b"POST " in d:
                state["post"] = True
            s.sendall(d)
    except OSError:
        pass


def pump_down(s, c, state, after):
    sent = 0
    try:
        while True:
            d = s.recv(65536)
            if not d:
                break
            if state["post"]:
                room = after - sent
                if room <= 0:
                    break
                d = d[:room]
                sent += len(d)
            c.sendall(d)
        if state["post"] and sent >= after:
            sys.stderr.write(f"stalled after {sent} bytes of the pack answer\n")
            sys.stderr.flush()
            time.sleep(HOLD_SECONDS)
    except OSError:
        pass
    finally:
        for x in (c, s):
            try:
                x.close()
            except OSError:
                pass


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("target", type=int)
    ap.add_argument("--after", type=int, default=2000)
    a = ap.parse_args()
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(16)
    print(f"PORT {ls.getsockname()[1]}", flush=True)
    while True:
        c, _ = ls.accept()
        s = socket.create_connection(("127.0.0.1", a.target))
        state = {"post": False}
        threading.Thread(target=pump_up, args=(c, s, state), daemon=True).start()
        threading.Thread(target=pump_down, args=(s, c, state, a.after), daemon=True).start()


if __name__ == "__main__":
    main()
