#!/usr/bin/env python3
"""A minimal token issuer for docker-registry's `auth: token` (test
infrastructure, started by scripts/services/registry.sh; not the thing under
test). GET /token?service=S&scope=repository:NAME:ACTIONS... with HTTP basic
auth of a user in the htpasswd file (bcrypt) answers {"token": JWT} signed
RS256 with --key, its certificate in the x5c header (the registry trusts it
through its rootcertbundle). Anonymous or wrong credentials: 401.
Every request is logged, one line each, to stdout."""

import argparse
import base64
import crypt
import json
import subprocess
import sys
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--htpasswd", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--issuer", required=True)
    ap.add_argument("--service", required=True)
    args = ap.parse_args()

    users = {}
    with open(args.htpasswd) as f:
        for line in f:
            if ":" in line:
                name, hashed = line.strip().split(":", 1)
                users[name] = hashed
    der = subprocess.run(["openssl", "x509", "-in", args.cert, "-outform", "DER"], check=True, capture_output=True).stdout
    x5c = base64.b64encode(der).decode()

    def sign(claims: dict) -> str:
        header = {"typ": "JWT", "alg": "RS256", "x5c": [x5c]}
        signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(claims).encode())}"
        sig = subprocess.run(
            ["openssl", "dgst", "-sha256", "-sign", args.key], input=signing_input.encode(), check=True, capture_output=True
        ).stdout
        return f"{signing_input}.{b64url(sig)}"

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, fmt, *a):  # one line per request on stdout
            print("%s %s" % (self.address_string(), fmt % a), flush=True)

        def deny(self) -> None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", 'Basic realm="opsdeck-test-token"')
            self.send_header("Content-Length", "0")
            self.end_headers()

        def do_GET(self) -> None:
            url = urlparse(self.path)
            if url.path != "/token":
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Basic "):
                return self.deny()
            try:
                name, password = base64.b64decode(auth[6:]).decode().split(":", 1)
            except Exception:
                return self.deny()
            hashed = users.get(name)
            if hashed is None or crypt.crypt(password, hashed) != hashed:
                return self.deny()
            q = parse_qs(url.query)
            access = []
            for scope in q.get("scope", []):
                for one in scope.split(" "):
                    parts = one.split(":")
                    if len(parts) >= 3:
                        access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": parts[-1].split(",")})
            now = int(time.time())
            claims = {
                "iss": args.issuer,
                "sub": name,
                "aud": q.get("service", [args.service])[0],
                "exp": now + 300,
                "nbf": now - 10,
                "iat": now,
                "jti": str(uuid.uuid4()),
                "access": access,
            }
            body = json.dumps({"token": sign(claims), "expires_in": 300, "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    print(f"listening on 127.0.0.1:{args.port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
