"""A registry front door that speaks the bearer-token flow (like ghcr.io or Docker Hub).

Requests without `Authorization: Bearer <token>` get 401 with a `WWW-Authenticate: Bearer`
challenge; `/token` trades basic credentials for the token; everything else is forwarded to the
real registry behind it. Usage: token_proxy.py UPSTREAM_PORT USER PASSWORD LOGFILE
(prints the port it listens on). With USER empty, no authentication is asked for; with
FLAKY=N in the environment, every Nth request is answered 503 (to exercise retries), at
most FLAKY_MAX times: fewer failures than rel's attempts per call, so that which requests
the failures hit (the order of parallel uploads) cannot decide whether the run succeeds."""
import base64
import http.client
import http.server
import os
import sys
import threading

upstream, user, password, logfile = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
TOKEN = "token-" + base64.b16encode(password.encode()[::-1]).decode().lower()
FLAKY = int(os.environ.get("FLAKY") or 0)
FLAKY_MAX = int(os.environ.get("FLAKY_MAX") or 1 << 30)
counter = [0]
failed = [0]
lock = threading.Lock()
BASIC = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def log(line):
    with open(logfile, "a") as f:
        f.write(line + "\n")


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body=b"", headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        auth = self.headers.get("Authorization", "")
        if FLAKY:
            with lock:
                counter[0] += 1
                fail = counter[0] % FLAKY == 0 and failed[0] < FLAKY_MAX
                failed[0] += fail
            if fail:
                log(f"503 {self.command} {self.path.split('?')[0]}")
                return self.reply(503, b"try again")
        if not user:
            auth = "Bearer " + TOKEN
        if self.path.startswith("/token"):
            ok = auth == BASIC
            log(f"token {'granted' if ok else 'refused'} {self.path}")
            if ok:
                return self.reply(200, ('{"token": "%s", "expires_in": 300}' % TOKEN).encode(), [("Content-Type", "application/json")])
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}')
        if auth != "Bearer " + TOKEN:
            log(f"challenge {self.command} {self.path.split('?')[0]}")
            port = self.server.server_address[1]
            challenge = f'Bearer realm="http://127.0.0.1:{port}/token",service="test-registry"'
            return self.reply(401, b'{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}', [("WWW-Authenticate", challenge), ("Content-Type", "application/json")])
        log(f"forward {self.command} {self.path.split('?')[0]}")
        conn = http.client.HTTPConnection("127.0.0.1", upstream)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in ("authorization", "connection", "content-length")}
        if length or self.command in ("PUT", "POST", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("transfer-encoding", "connection", "content-length"):
                self.send_header(k, v)
        if self.command == "HEAD":
            self.send_header("Content-Length", resp.getheader("Content-Length") or "0")
            self.end_headers()
        else:
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
