"""A stand-in kube-apiserver for load-balancer tests: HTTPS on :6443, GET /readyz and GET /name.

/readyz answers 200 "ok", or 503 while the file given as --unready-flag exists (an apiserver that is shutting
down or has lost etcd keeps serving but reports unready). /name answers the server's name, so a test can tell
which backend served a request.
"""

import argparse
import http.server
import os
import ssl

HANDSHAKE_SECONDS = 5


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--unready-flag", required=True)
    parser.add_argument("--port", type=int, default=6443)
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
        timeout = HANDSHAKE_SECONDS

        def do_GET(self):  # noqa: N802 (the standard library's name)
            if self.path == "/readyz":
                ready = not os.path.exists(args.unready_flag)
                status, body = (200, b"ok") if ready else (503, b"not ready")
            elif self.path == "/name":
                status, body = 200, args.name.encode()
            else:
                status, body = 404, b"not found"
            self.send_response(status)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Connection", "close")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_):
            pass

    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.cert, args.key)

    class TlsServer(http.server.ThreadingHTTPServer):
        """TLS per connection, in that connection's thread. Wrapping the listening socket instead runs every
        handshake inside accept() on the one serving thread: a peer that connects and stalls (a health check cut
        off by its timeout, a client that went away) then blocks every later connection, which the kernel still
        accepts, so haproxy sees a connected backend it cannot redispatch from, and requests time out."""

        daemon_threads = True

        def finish_request(self, request, client_address):
            request.settimeout(HANDSHAKE_SECONDS)
            try:
                tls = context.wrap_socket(request, server_side=True)
            except OSError:  # ssl.SSLError included: a check that closed early, a client that timed out
                return
            self.RequestHandlerClass(tls, client_address, self)

    server = TlsServer(("0.0.0.0", args.port), Handler)
    server.serve_forever()


if __name__ == "__main__":
    main()
