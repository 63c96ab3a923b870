# keys_server.py - the identity provider of tests/keys_fetch.sh: HTTPS on
# 127.0.0.1:PORT serving the files of DOCROOT (rewritten by the test to
# rotate keys), with a few paths that misbehave:
#   /slow/NAME  waits 5 s, then serves NAME
#   /big        a 10 MB body that starts as JSON would
#   *.html      served as text/html
#   /nocache/NAME  NAME without Cache-Control (jwtrevd's jwks_refresh
#               then applies: tests/jwtrevd_keys.sh)
#   missing     404
# usage: keys_server.py PORT DOCROOT CERT KEY
import http.server
import os
import ssl
import sys
import time


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, body, ctype="application/json", cache=True):
        self.send_response(200)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if cache:
            self.send_header("Cache-Control", "public, max-age=600")
        self.end_headers()
        try:
            self.wfile.write(body)
        except OSError:
            pass  # the client hung up (it refuses a body too large)

    def do_GET(self):
        path = self.path
        cache = not path.startswith("/nocache/")
        if not cache:
            path = path[8:]
        if path == "/big":
            return self.answer(b"{" + b" " * (10 * 1024 * 1024) + b"}")
        if path.startswith("/slow/"):
            time.sleep(5)
            path = path[5:]
        name = os.path.normpath(os.path.join(DOCROOT, path.lstrip("/")))
        if not name.startswith(DOCROOT + os.sep) or not os.path.isfile(name):
            self.send_error(404)
            return
        with open(name, "rb") as f:
            body = f.read()
        self.answer(body, "text/html" if name.endswith(".html")
                    else "application/json", cache)


PORT, DOCROOT = int(sys.argv[1]), os.path.abspath(sys.argv[2])
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(sys.argv[3], sys.argv[4])
srv = http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler)
srv.daemon_threads = True
srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
srv.serve_forever()
