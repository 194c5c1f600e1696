"""The reader greenlet shares the hub: a peer that never lets the socket run dry must not starve
the other greenlets (the event writer waiting on its database answer)."""

from __future__ import annotations

import gevent

from apps.telephony.esl import ESLConnection, Event
from apps.telephony.esl.connection import _Session
from apps.telephony.esl.frames import FrameParser
from tests.telephony.esl.conftest import fast_config
from tests.telephony.esl.fakes import plain_event


class AlwaysReadySocket:
    """A socket whose ``recv`` never blocks: a backlog the peer built up while we were busy."""

    def __init__(self, chunks: list[bytes]) -> None:
        self.chunks = chunks
        self.served = 0

    def recv(self, size: int) -> bytes:
        if self.served == len(self.chunks):
            return b""
        self.served += 1
        return self.chunks[self.served - 1]

    def close(self) -> None:
        pass


def test_the_reader_lets_other_greenlets_run_while_data_keeps_coming():
    # Given a peer with 200 chunks of 5 events each ready to read
    frame = plain_event({"Event-Name": "CHANNEL_ANSWER", "Unique-ID": "leg-1"})
    sock = AlwaysReadySocket([frame * 5] * 200)
    received: list[Event] = []
    connection = ESLConnection(fast_config(0), on_event=received.append)
    session = _Session(sock=sock, parser=FrameParser())  # type: ignore[arg-type]

    # When the reader runs and another greenlet is ready to run too
    chunks_read_when_other_ran: list[int] = []
    reader = gevent.spawn(connection._read_loop, session)
    other = gevent.spawn(lambda: chunks_read_when_other_ran.append(sock.served))
    reader.join(5)
    other.join(5)

    # Then the other greenlet ran after the first chunk, long before the backlog was read,
    # and every event was still delivered in order
    assert chunks_read_when_other_ran == [1]
    assert len(received) == 1000
    assert {event.unique_id for event in received} == {"leg-1"}
    assert session.reason == "connection closed by FreeSWITCH"
