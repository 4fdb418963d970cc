"""A fake clamd on a Unix socket, speaking clamd's INSTREAM protocol, for the malware-scan tests.

It reads ``zINSTREAM\\0`` (or ``nINSTREAM\\n``), then chunks of a 4-byte big-endian length and that many bytes until
a zero length, and answers as clamd does: ``stream: OK``, ``stream: Eicar-Test-Signature FOUND`` when the stream
holds the EICAR test string, or, in ``error`` mode, ``INSTREAM size limit exceeded. ERROR``.
"""

from __future__ import annotations

import shutil
import socket
import struct
import tempfile
import threading
from pathlib import Path

#: The industry-standard anti-virus test string (harmless; every scanner reports it), built in two parts so this
#: file itself is not flagged.
EICAR = b'X5O!P%@AP[4\\PZX54(P^)7CC)7}$' + b'EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*'


class FakeClamd:
    """Serve the INSTREAM protocol on a fresh socket path until closed; ``streams`` holds every stream received."""

    def __init__(self, mode: str = 'scan'):
        self.mode = mode
        self.folder = Path(tempfile.mkdtemp(prefix='clamd'))
        self.path = str(self.folder / 'clamd.ctl')
        self.streams: list[bytes] = []
        self.commands: list[bytes] = []
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(8)
        self.listener.settimeout(0.1)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._serve, daemon=True)

    def __enter__(self) -> FakeClamd:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def stop(self) -> None:
        """Stop answering (clamd down): the socket file stays, but nothing listens on it any more."""
        if not self.stopping.is_set():
            self.stopping.set()
            self.thread.join(timeout=10)
            self.listener.close()

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)

    def _serve(self) -> None:
        while not self.stopping.is_set():
            try:
                connection, _ = self.listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            with connection:
                connection.settimeout(10)
                try:
                    self._conversation(connection)
                except (OSError, ValueError):
                    pass

    def _read_exact(self, connection: socket.socket, size: int) -> bytes:
        data = b''
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ValueError('stream ended early')
            data += chunk
        return data

    def _conversation(self, connection: socket.socket) -> None:
        command = b''
        while not command.endswith((b'\0', b'\n')):
            command += self._read_exact(connection, 1)
        self.commands.append(command)
        terminator = command[-1:]
        if command[1:-1] != b'INSTREAM' or command[:1] not in (b'z', b'n'):
            connection.sendall(b'UNKNOWN COMMAND' + terminator)
            return
        stream = b''
        while True:
            (length,) = struct.unpack('!I', self._read_exact(connection, 4))
            if length == 0:
                break
            stream += self._read_exact(connection, length)
        self.streams.append(stream)
        if self.mode == 'error':
            reply = b'INSTREAM size limit exceeded. ERROR'
        elif EICAR in stream:
            reply = b'stream: Eicar-Test-Signature FOUND'
        else:
            reply = b'stream: OK'
        connection.sendall(reply + terminator)
