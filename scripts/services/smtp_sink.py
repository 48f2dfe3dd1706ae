"""A real SMTP server (aiosmtpd, Debian python3-aiosmtpd) for the notification
tests: STARTTLS required, AUTH (PLAIN, LOGIN) required after STARTTLS, one
user and password; each message accepted is stored as a file in --maildir
(NNNNNN.eml: X-Sink-* headers with the envelope, the TLS state and the AUTH
user, then the message as received). Started by scripts/services/smtp.sh.

    python3 smtp_sink.py --host 127.0.0.1 --port P --cert C --key K --maildir D
    (user and password from $SMTP_SINK_USER and $SMTP_SINK_PASSWORD)
"""

import argparse
import itertools
import os
import signal
import ssl
import threading

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


class MaildirHandler:
    def __init__(self, maildir):
        self.maildir = maildir
        self.counter = itertools.count(1)
        self.lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            n = next(self.counter)
        headers = [
            f"X-Sink-Mail-From: {envelope.mail_from}",
            f"X-Sink-Rcpt-To: {', '.join(envelope.rcpt_tos)}",
            f"X-Sink-TLS: {'yes' if session.ssl else 'no'}",
            f"X-Sink-Auth-User: {session.auth_data.login.decode() if isinstance(session.auth_data, LoginPassword) else ''}",
        ]
        body = envelope.original_content or envelope.content
        if isinstance(body, str):
            body = body.encode()
        tmp = os.path.join(self.maildir, f".{n:06d}.tmp")
        with open(tmp, "wb") as f:
            f.write(("\r\n".join(headers) + "\r\n").encode() + body)
        os.rename(tmp, os.path.join(self.maildir, f"{n:06d}.eml"))
        return "250 Message accepted for delivery"


class Authenticator:
    def __init__(self, user, password):
        self.user = user.encode()
        self.password = password.encode()

    def __call__(self, server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and auth_data.login == self.user and auth_data.password == self.password
        return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--cert", required=True)
    p.add_argument("--key", required=True)
    p.add_argument("--maildir", required=True)
    a = p.parse_args()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(a.cert, a.key)
    controller = Controller(
        MaildirHandler(a.maildir),
        hostname=a.host,
        port=a.port,
        server_hostname="localhost",
        tls_context=ctx,
        require_starttls=True,
        authenticator=Authenticator(os.environ["SMTP_SINK_USER"], os.environ["SMTP_SINK_PASSWORD"]),
        auth_required=True,
        auth_require_tls=True,
    )
    controller.start()
    print(f"listening on {a.host}:{a.port}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    signal.signal(signal.SIGINT, lambda *_: stop.set())
    stop.wait()
    controller.stop()


if __name__ == "__main__":
    main()
