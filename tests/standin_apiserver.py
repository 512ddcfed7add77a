"""A stand-in kube-apiserver for load-balancer tests: HTTPS on :6443, GET /readyz and GET /name.

/readyz answers 200 "ok", or 503 while the file given as --unready-flag exists (an apiserver that is shutting
down or has lost etcd keeps serving but reports unready). /name answers the server's name, so a test can tell
which backend served a request.
"""

import argparse
import http.server
import os
import ssl


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--cert", required=True)
    parser.add_argument("--key", required=True)
    parser.add_argument("--unready-flag", required=True)
    parser.add_argument("--port", type=int, default=6443)
    args = parser.parse_args()

    class Handler(http.server.BaseHTTPRequestHandler):
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
    server = http.server.ThreadingHTTPServer(("0.0.0.0", args.port), Handler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
