"""Real servers for tests that need real concurrency or real network faults.

- :class:`ThreadedServer` serves an app from this process with Werkzeug's threaded server on a free loopback
  port: each request runs in its own thread with its own database connection, as under gunicorn.
- :class:`BlackholeProxy` is a TCP proxy on loopback that forwards to a real server, and can be switched to
  accept connections and swallow everything without ever answering (a hung database, a network that drops
  packets), then back.
- :func:`signed_in` gives a ``requests`` session carrying a real signed session cookie for a user.
"""

from __future__ import annotations

import selectors
import socket
import threading
import time

import requests
from flask import Flask
from werkzeug.serving import make_server

from registry.extensions import db


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


class ThreadedServer:
    """Werkzeug's threaded server for ``app`` on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app: Flask):
        self.app = app
        self.server = make_server('127.0.0.1', 0, app, threaded=True)
        self.url = f'http://127.0.0.1:{self.server.server_port}'
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={'poll_interval': 0.05},
                                       daemon=True)

    def __enter__(self) -> ThreadedServer:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def session_cookie(app: Flask, user_id: int, *, second_factor: bool = True, extra: dict | None = None) -> str:
    """A session cookie value signed with the app's key, as Flask-Login would set after sign-in."""
    from registry.accounts.models import User

    with app.app_context():
        session_id = db.session.get(User, user_id).get_id()
        db.session.remove()
    data = {'_user_id': session_id, '_fresh': True, **(extra or {})}
    if second_factor:
        data['second_factor_verified'] = True
    return app.session_interface.get_signing_serializer(app).dumps(data)


def signed_in(app: Flask, server_url: str, user_id: int | None) -> requests.Session:
    """A ``requests`` session for ``server_url``, signed in as ``user_id`` (None: signed out)."""
    http = requests.Session()
    if user_id is not None:
        http.cookies.set(app.config.get('SESSION_COOKIE_NAME', 'session'), session_cookie(app, user_id),
                         domain='127.0.0.1', path='/')
    return http


def run_together(calls, timeout: float = 60) -> list:
    """Run the callables at the same moment in threads (a barrier releases them together); their results in order.

    An exception in a call is returned in its place rather than raised.
    """
    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait(timeout=timeout)
            results[index] = call()
        except Exception as exc:  # noqa: BLE001 - reported to the test, which asserts on it
            results[index] = exc

    threads = [threading.Thread(target=run, args=(index, call)) for index, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout)
    return results


class BlackholeProxy:
    """A TCP proxy on loopback in front of ``target``; :meth:`blackhole` makes it accept and never answer.

    While black-holed, new connections are accepted and whatever they send is read and dropped; data on existing
    connections is dropped in both directions. :meth:`forward` restores service: connections that lost data are
    closed (as after a network fault), the others carry on.
    """

    def __init__(self, target_host: str, target_port: int):
        self.target = (target_host, target_port)
        self.listener = socket.create_server(('127.0.0.1', 0))
        self.port = self.listener.getsockname()[1]
        self.black = threading.Event()
        self.stopping = threading.Event()
        self.lock = threading.Lock()
        #: client socket -> (server socket or None, lost data?)
        self.pairs: dict[socket.socket, list] = {}
        self.selector = selectors.DefaultSelector()
        self.thread = threading.Thread(target=self._loop, daemon=True)

    def __enter__(self) -> BlackholeProxy:
        self.listener.setblocking(False)
        self.selector.register(self.listener, selectors.EVENT_READ, ('accept', None))
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)
        with self.lock:
            for client, (server, _lost) in list(self.pairs.items()):
                self._close(client, server)
        self.listener.close()
        self.selector.close()

    def blackhole(self) -> None:
        self.black.set()

    def forward(self) -> None:
        with self.lock:
            self.black.clear()
            for client, (server, lost) in list(self.pairs.items()):
                if lost or server is None:
                    self._close(client, server)

    def _close(self, client, server) -> None:
        for sock in (client, server):
            if sock is None:
                continue
            try:
                self.selector.unregister(sock)
            except (KeyError, ValueError):
                pass
            sock.close()
        self.pairs.pop(client, None)

    def _loop(self) -> None:
        while not self.stopping.is_set():
            for key, _events in self.selector.select(timeout=0.05):
                kind, client = key.data
                with self.lock:
                    if kind == 'accept':
                        self._accept()
                    else:
                        self._pump(key.fileobj, client, kind)

    def _accept(self) -> None:
        try:
            client, _address = self.listener.accept()
        except BlockingIOError:
            return
        client.setblocking(False)
        server = None
        if not self.black.is_set():
            try:
                server = socket.create_connection(self.target, timeout=5)
                server.setblocking(False)
            except OSError:
                client.close()
                return
            self.selector.register(server, selectors.EVENT_READ, ('from-server', client))
        self.pairs[client] = [server, server is None]
        self.selector.register(client, selectors.EVENT_READ, ('from-client', client))

    def _pump(self, sock, client, kind) -> None:
        pair = self.pairs.get(client)
        if pair is None:
            return
        server = pair[0]
        try:
            data = sock.recv(65536)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b''
        if not data:
            self._close(client, server)
            return
        if self.black.is_set() or server is None:
            pair[1] = True  # swallowed: this conversation is now broken
            return
        destination = server if kind == 'from-client' else client
        try:
            destination.setblocking(True)
            destination.sendall(data)
            destination.setblocking(False)
        except OSError:
            self._close(client, server)


def wait_until(check, timeout: float, interval: float = 0.1):
    """Call ``check`` until it returns something truthy (returned) or ``timeout`` passes (AssertionError)."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f'not true within {timeout} seconds')
        time.sleep(interval)
