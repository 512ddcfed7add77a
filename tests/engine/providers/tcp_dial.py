"""The TCP connect of the command stand-in's SSH dials, run by OpenSSH as its ProxyCommand with ProxyUseFdpass:

    python -m tests.engine.providers.tcp_dial HOST PORT TIMEOUT_SECONDS

It connects with a timeout (0: none) and hands the connected socket back to ssh, which then does the SSH handshake
over it without a timeout of its own. That is how pulumi-command bounds a dial: `perDialTimeout` becomes
golang.org/x/crypto/ssh's ClientConfig.Timeout, which bounds net.DialTimeout (the TCP connect) and nothing after it.
On failure it prints Go's net.OpError text ("dial tcp 203.0.113.21:22: connect: connection refused", "... i/o
timeout") after DIAL_ERROR_MARK, for the stand-in to report as upstream would, and exits 1.
"""

from __future__ import annotations

import errno
import os
import socket
import sys

DIAL_ERROR_MARK = "standin-dial-error: "


def go_dial_error(host: str, port: int, error: OSError, address: str | None) -> str:
    """Go's text for a failed net.DialTimeout("tcp", ...): "dial tcp ADDR: connect: <errno text>", or
    "dial tcp ADDR: i/o timeout" when the timeout struck first."""
    target = address or f"{host}:{port}"
    if isinstance(error, (socket.timeout, TimeoutError)) and getattr(error, "errno", None) in (None, 0):
        return f"dial tcp {target}: i/o timeout"
    if isinstance(error, socket.gaierror):
        return f"dial tcp: lookup {host}: no such host"
    code = error.errno or errno.EIO
    text = os.strerror(code)
    return f"dial tcp {target}: connect: {text[:1].lower()}{text[1:]}"


def dial(host: str, port: int, timeout: float) -> socket.socket:
    last: OSError | None = None
    address = None
    for family, kind, proto, _, sockaddr in socket.getaddrinfo(host, port, type=socket.SOCK_STREAM):
        address = f"[{sockaddr[0]}]:{sockaddr[1]}" if family == socket.AF_INET6 else f"{sockaddr[0]}:{sockaddr[1]}"
        connection = socket.socket(family, kind, proto)
        connection.settimeout(timeout if timeout > 0 else None)
        try:
            connection.connect(sockaddr)
        except OSError as error:
            connection.close()
            last = error
            continue
        connection.setblocking(True)
        return connection
    raise ConnectionError(go_dial_error(host, port, last or OSError(errno.EHOSTUNREACH, ""), address))


def main(host: str, port: str, timeout: str) -> int:
    try:
        connection = dial(host, int(port), float(timeout))
    except socket.gaierror as error:
        print(DIAL_ERROR_MARK + go_dial_error(host, int(port), error, None), file=sys.stderr, flush=True)
        return 1
    except ConnectionError as error:
        print(DIAL_ERROR_MARK + str(error), file=sys.stderr, flush=True)
        return 1
    socket.send_fds(socket.socket(fileno=sys.stdout.fileno()), [b"\0"], [connection.fileno()])
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))
