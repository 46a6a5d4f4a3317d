#!/usr/bin/env python3
"""A peer for fernet-jca's fernet-tokens mode: newline-terminated Fernet tokens over TCP.

Each line on the wire is one token, ``Fernet(key).encrypt(chunk) + b"\\n"``, of at most 16 KiB of plaintext. This is
what ``fernet.mode=fernet-tokens`` sockets and ``fernet tunnel --mode fernet-tokens`` speak (docs/protocol.md).

Server: reads token lines, answers each with a token of the reply (the text upper-cased, or echoed):

    FERNET_KEY_FILE=fernet.key python3 fernet_peer.py --listen 127.0.0.1:0

It prints ``fernet_peer: listening on HOST:PORT`` on standard output once it accepts connections (port 0: any free
port, the one chosen is printed), and one line per connection on standard error.

Client: sends standard input as tokens, half-closes, and prints the decrypted replies until the server closes:

    printf 'hello\\n' | FERNET_KEY_FILE=fernet.key python3 fernet_peer.py --connect 127.0.0.1:7000

Keys come from the file named by ``--key-file`` or ``FERNET_KEY_FILE`` (one key a line, the primary first, ``#``
comments), else from ``FERNET_KEY`` (keys separated by commas, the primary first); never from an argument, which
``ps`` would show. The primary key encrypts; every key decrypts (``MultiFernet``), as in a key rotation.

A client exits with status 1 and a message when the server resets the connection, which is how fernet-jca and this
server refuse a token they cannot authenticate (another key, an altered token, or one older than the TTL): a wrong key
is never a silent success. Needs only the standard library and ``cryptography``.
"""

import argparse
import errno
import os
import socket
import struct
import sys
import threading

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

CHUNK_BYTES = 16 * 1024          # plaintext per token, as fernet-jca sends
MAX_LINE_BYTES = 1 << 20         # a longer line is refused, as fernet-jca refuses it


def load_keys(key_file):
    """Returns a MultiFernet of the configured keys, the primary first."""
    if key_file:
        with open(key_file, "rb") as f:
            lines = f.read().decode("ascii").splitlines()
        keys = [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]
        where = "key file " + key_file
    elif os.environ.get("FERNET_KEY"):
        keys = [k.strip() for k in os.environ["FERNET_KEY"].split(",")]
        where = "FERNET_KEY"
    else:
        sys.exit("fernet_peer: no keys: set FERNET_KEY_FILE, pass --key-file, or set FERNET_KEY")
    if not keys:
        sys.exit("fernet_peer: %s holds no keys" % where)
    try:
        return MultiFernet([Fernet(k) for k in keys])
    except ValueError:
        sys.exit("fernet_peer: %s holds something that is not a Fernet key" % where)  # never echo the key


def token_lines(sock_file):
    """Yields each line read (newline and an optional carriage return removed), refusing overlong lines."""
    while True:
        line = sock_file.readline(MAX_LINE_BYTES + 2)
        if not line:
            return                                   # end of stream between lines: a clean end
        if not line.endswith(b"\n"):
            if len(line) > MAX_LINE_BYTES:
                raise ValueError("line exceeds %d bytes" % MAX_LINE_BYTES)
            raise EOFError("connection ended in the middle of a token")
        yield line.rstrip(b"\n").rstrip(b"\r")


def send(sock, fernet, data):
    """Sends data as tokens of at most CHUNK_BYTES of plaintext, one a line."""
    for start in range(0, len(data), CHUNK_BYTES):
        sock.sendall(fernet.encrypt(data[start:start + CHUNK_BYTES]) + b"\n")


def abort(conn):
    """Closes with a TCP reset, not a clean end, so the peer sees the failure (as fernet-jca does)."""
    try:
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass


def serve_connection(conn, peer, fernet, ttl, reply):
    tokens = received = 0
    outcome = "closed cleanly"
    try:
        with conn, conn.makefile("rb") as lines:
            try:
                for token in token_lines(lines):
                    plaintext = fernet.decrypt(token, ttl=ttl)
                    tokens += 1
                    received += len(plaintext)
                    answer = plaintext.upper() if reply == "upper" else plaintext
                    conn.sendall(fernet.encrypt(answer) + b"\n")
            except BaseException:
                abort(conn)
                raise
    except InvalidToken:
        outcome = "failed: token rejected"          # bad key, altered token, or older than the TTL
    except (OSError, ValueError, EOFError) as e:
        outcome = "failed: %s" % e
    print("fernet_peer: %s:%d %d tokens, %d bytes in, %s" % (peer[0], peer[1], tokens, received, outcome),
          file=sys.stderr, flush=True)


def listen(address, fernet, ttl, reply):
    host, port = address
    server = socket.create_server((host, port), reuse_port=False)
    print("fernet_peer: listening on %s:%d" % (host, server.getsockname()[1]), flush=True)
    with server:
        while True:
            conn, peer = server.accept()
            threading.Thread(target=serve_connection, args=(conn, peer, fernet, ttl, reply), daemon=True).start()


def connect(address, fernet, ttl):
    with socket.create_connection(address) as sock:
        def print_replies():
            with sock.makefile("rb") as lines:
                for token in token_lines(lines):
                    sys.stdout.buffer.write(fernet.decrypt(token, ttl=ttl))
                    sys.stdout.buffer.flush()

        # replies are read while we send, so neither side can block the other on a full socket buffer
        failure = []
        reader = threading.Thread(target=lambda: guarded(print_replies, failure))
        reader.start()
        try:
            while True:
                chunk = sys.stdin.buffer.read1(CHUNK_BYTES)
                if not chunk:
                    break
                send(sock, fernet, chunk)
            sock.shutdown(socket.SHUT_WR)            # the server reads a clean end between lines
        except OSError as e:
            if e.errno not in (errno.ECONNRESET, errno.EPIPE, errno.ENOTCONN):
                raise
            failure.append(REFUSED)                  # ENOTCONN: shutdown after the reset came
        reader.join()
        if failure:
            sys.exit("fernet_peer: %s" % failure[0])


REFUSED = "the server reset the connection: it refused our tokens (does it hold another key?) or failed"


def guarded(function, failure):
    try:
        function()
    except InvalidToken:
        failure.append("reply rejected: not a token of our keys, altered, or too old")
    except ConnectionResetError:
        failure.append(REFUSED)
    except (OSError, ValueError, EOFError) as e:
        failure.append(str(e))


def host_port(text):
    host, _, port = text.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError("expected HOST:PORT, got " + text)
    return host.strip("[]"), int(port)


def main():
    parser = argparse.ArgumentParser(description="Talk newline Fernet tokens (fernet-jca's fernet-tokens mode).")
    side = parser.add_mutually_exclusive_group(required=True)
    side.add_argument("--listen", type=host_port, metavar="HOST:PORT", help="serve on HOST:PORT (port 0: any)")
    side.add_argument("--connect", type=host_port, metavar="HOST:PORT", help="send standard input to HOST:PORT")
    parser.add_argument("--key-file", default=os.environ.get("FERNET_KEY_FILE"),
                        help="file of keys, one a line, the primary first (default: $FERNET_KEY_FILE, else $FERNET_KEY)")
    parser.add_argument("--ttl", type=int, metavar="SECONDS", help="refuse tokens older than this")
    parser.add_argument("--reply", choices=["upper", "echo"], default="upper", help="server: what to answer")
    args = parser.parse_args()
    fernet = load_keys(args.key_file)
    try:
        if args.listen:
            listen(args.listen, fernet, args.ttl, args.reply)
        else:
            connect(args.connect, fernet, args.ttl)
    except KeyboardInterrupt:
        pass
    except OSError as e:
        sys.exit("fernet_peer: %s" % e)


if __name__ == "__main__":
    main()
