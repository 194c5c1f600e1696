"""A loopback TCP proxy in front of the simulator that can slip garbage into the byte stream.

It runs on the gevent hub of the test's thread, like the event process's ESL connection, and
forwards every byte both ways untouched until ``inject`` writes extra bytes to the clients.
"""

from __future__ import annotations

import contextlib

import gevent
import gevent.server
import gevent.socket


class InjectingProxy:
    """Forward 127.0.0.1:<port> to a target; ``inject`` sends bytes to every client."""

    def __init__(self, target_host: str, target_port: int) -> None:
        self._target = (target_host, target_port)
        self._clients: list[gevent.socket.socket] = []
        self.connections = 0
        self._server = gevent.server.StreamServer(("127.0.0.1", 0), self._handle)
        self._server.start()

    @property
    def port(self) -> int:
        return self._server.server_port

    def _handle(self, client: gevent.socket.socket, address: object) -> None:
        self.connections += 1
        upstream = gevent.socket.create_connection(self._target)
        self._clients.append(client)

        def pump(source: gevent.socket.socket, sink: gevent.socket.socket) -> None:
            try:
                while data := source.recv(65536):
                    sink.sendall(data)
            except OSError:
                pass
            finally:
                for sock in (source, sink):
                    with contextlib.suppress(OSError):
                        sock.close()

        backward = gevent.spawn(pump, upstream, client)
        pump(client, upstream)
        backward.join(timeout=1)
        if client in self._clients:
            self._clients.remove(client)

    def inject(self, data: bytes) -> int:
        """Write ``data`` to every connected client; return how many got it."""
        sent = 0
        for client in list(self._clients):
            try:
                client.sendall(data)
                sent += 1
            except OSError:
                continue
        return sent

    def stop(self) -> None:
        self._server.stop(timeout=1)
