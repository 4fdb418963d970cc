"""A real SMTP server on loopback (aiosmtpd) for the delivery tests, with addresses that fail on purpose.

``refuse``: addresses refused for good (550 at RCPT), ``defer``: address → how many times it is refused for now
(451) before it is accepted, ``auth``: (user, password) the server requires. Every accepted message is kept in
``messages`` as (recipient, subject, Message-ID, body).
"""

from __future__ import annotations

import email
import socket
import threading
import time

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class _Handler:
    def __init__(self, server: LoopbackSmtp):
        self.server = server

    async def handle_RCPT(self, _server, _session, envelope, address, _options):
        with self.server.lock:
            self.server.attempts.append(address)
            if address in self.server.refuse:
                return '550 5.1.1 Mailbox does not exist'
            if self.server.defer.get(address, 0) > 0:
                self.server.defer[address] -= 1
                return '451 4.3.0 Mailbox busy, try again later'
        envelope.rcpt_tos.append(address)
        return '250 OK'

    async def handle_DATA(self, _server, _session, envelope):
        if self.server.delay:
            time.sleep(self.server.delay)
        message = email.message_from_bytes(envelope.original_content or envelope.content)
        with self.server.lock:
            for recipient in envelope.rcpt_tos:
                self.server.messages.append((recipient, message['Subject'], message['Message-ID'],
                                             message.get_payload(decode=True).decode()))
        return '250 Message accepted for delivery'


class LoopbackSmtp:
    """Start with ``with LoopbackSmtp() as smtp:``; ``smtp.port`` is where it listens on 127.0.0.1."""

    def __init__(self, *, refuse=(), defer: dict[str, int] | None = None, auth: tuple[str, str] | None = None,
                 delay: float = 0.0):
        self.refuse, self.defer, self.auth, self.delay = set(refuse), dict(defer or {}), auth, delay
        self.messages: list[tuple[str, str, str, str]] = []
        self.attempts: list[str] = []
        self.logins: list[str] = []
        self.lock = threading.Lock()
        self.port = _free_port()
        kwargs = {}
        if auth:
            kwargs = {'authenticator': self._authenticate, 'auth_require_tls': False}
        self.controller = Controller(_Handler(self), hostname='127.0.0.1', port=self.port, **kwargs)

    def _authenticate(self, _server, _session, _envelope, _mechanism, auth_data):
        ok = (auth_data.login.decode(), auth_data.password.decode()) == self.auth
        if ok:
            self.logins.append(auth_data.login.decode())
        return AuthResult(success=ok)

    def __enter__(self) -> LoopbackSmtp:
        self.controller.start()
        return self

    def __exit__(self, *_exc) -> None:
        self.controller.stop()

    def to(self, address: str) -> list[tuple[str, str, str, str]]:
        return [message for message in self.messages if message[0] == address]
