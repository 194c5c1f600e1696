"""Benchmark ESL event decoding: apps.telephony.esl versus greenswitch's ESLEvent.

Run from the repo root: ``python bench/esl_parse.py [--rounds N]``.

Corpus: every ``text/event-plain`` event in the FreeSWITCH 1.10.12 captures under
``shared/fixtures/esl`` and ``shared/fixtures/httapi`` (the ESL transcripts).

Two measurements, each run in interleaved rounds (ours, theirs, ours, ...) and reported as the
median events per second (CPU time of this process) and the median of the paired per-round ratios:

1. event decode -- the same event frames decoded the way each library gets them.
   greenswitch: ``ESLEvent(<outer header text>)`` then ``parse_data(body.decode())`` (what
   ``ESLProtocol.handle_event`` does for an event). Ours: ``decode_frame(frame)`` (outer headers
   already split by the frame parser, as in the connection's reader).
2. stream -- whole plain transcripts from raw bytes: our ``FrameParser`` fed the captured read
   sizes plus ``decode_frame`` for every frame, versus greenswitch's receive path
   (``readline`` per header line, ``ESLEvent``, ``read(Content-Length)``, ``parse_data``)
   over an in-memory file.

It also counts the events whose greenswitch decoding differs from ours (greenswitch url-decodes
the whole body before splitting lines, so multi-line values such as SDP are torn apart, and it
strips values).
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from greenswitch.esl import ESLEvent  # noqa: E402

from apps.telephony.esl import Event, Frame, FrameParser, decode_frame  # noqa: E402

FIXTURES = ROOT / ".." / "shared" / "fixtures"


def _transcripts() -> list[Path]:
    paths = sorted((FIXTURES / "esl").glob("*.raw")) + sorted(
        (FIXTURES / "httapi").glob("*_esl*.raw")
    )
    if not paths:
        raise SystemExit(f"no transcripts under {FIXTURES}")
    return paths


def _chunks(path: Path) -> list[bytes]:
    raw = path.read_bytes()
    log = path.with_suffix(".chunks.log")
    chunks, offset = [], 0
    for line in log.read_text().splitlines():
        _, direction, size = line.split()
        if direction == "in":
            chunks.append(raw[offset : offset + int(size)])
            offset += int(size)
    return chunks


def _greenswitch_stream(data: bytes) -> int:
    """Mirror greenswitch's ESLProtocol.receive_events/handle_event over an in-memory file."""
    sock_file = io.BytesIO(data)
    count = 0
    buf = ""
    while True:
        line = sock_file.readline()
        if not line:
            return count
        text = line.decode("utf-8")
        if text != "\n":
            buf += text
            continue
        event = ESLEvent(buf)
        buf = ""
        content_type = event.headers.get("Content-Type")
        if content_type in ("auth/request", "command/reply"):
            continue
        length = int(event.headers.get("Content-Length", 0))
        body = sock_file.read(length).decode("utf-8")
        if content_type in ("api/response", "log/data", "text/disconnect-notice"):
            event.data = body
            continue
        event.parse_data(body)
        count += 1


def _ours_stream(chunks: list[bytes]) -> int:
    parser = FrameParser()
    count = 0
    for chunk in chunks:
        for frame in parser.feed(chunk):
            if isinstance(decode_frame(frame), Event):
                count += 1
    return count


def _rate(function: Callable[[], int]) -> float:
    # CPU time of this process: other processes on a shared machine do not skew it.
    start = time.process_time()
    events = function()
    return events / (time.process_time() - start)


def _compare(
    label: str, ours: Callable[[], int], theirs: Callable[[], int], rounds: int
) -> tuple[float, float]:
    ours_rates, theirs_rates = [], []
    for _ in range(rounds):
        ours_rates.append(_rate(ours))
        theirs_rates.append(_rate(theirs))
    ours_median = statistics.median(ours_rates)
    theirs_median = statistics.median(theirs_rates)
    ratios = [o / t for o, t in zip(ours_rates, theirs_rates, strict=True)]
    print(f"{label}")
    print(f"  apps.telephony.esl  : {ours_median:10,.0f} events/s")
    print(f"  greenswitch ESLEvent: {theirs_median:10,.0f} events/s")
    print(
        f"  ratio               : {statistics.median(ratios):10.2f}x "
        f"(median of {len(ratios)} paired rounds; min {min(ratios):.2f}x, max {max(ratios):.2f}x)"
    )
    return ours_median, theirs_median


def main() -> None:
    """Run both measurements and print the figures."""
    arguments = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    arguments.add_argument("--rounds", type=int, default=15)
    options = arguments.parse_args()

    paths = _transcripts()
    frames: list[Frame] = []
    plain_streams: list[tuple[bytes, list[bytes]]] = []
    for path in paths:
        raw = path.read_bytes()
        path_frames = FrameParser().feed(raw)
        events = [f for f in path_frames if f.content_type == "text/event-plain"]
        frames.extend(events)
        # greenswitch can only decode plain events (json/xml bodies crash or garble it).
        other = {"text/event-json", "text/event-xml"}
        if events and not any(f.content_type in other for f in path_frames):
            plain_streams.append((raw, _chunks(path)))
    outer_texts = ["".join(f"{k}: {v}\n" for k, v in f.headers.items()) for f in frames]
    bodies = [f.body for f in frames]
    total_bytes = sum(len(body) for body in bodies)
    print(
        f"corpus: {len(frames)} plain events ({total_bytes / len(frames):,.0f} bytes on average) "
        f"from {len(paths)} transcripts; {len(plain_streams)} plain streams "
        f"({sum(len(raw) for raw, _ in plain_streams) / 1e6:.1f} MB)"
    )
    sys.stdout.flush()

    def ours_events() -> int:
        for frame in frames:
            decode_frame(frame)
        return len(frames)

    def theirs_events() -> int:
        for outer, body in zip(outer_texts, bodies, strict=True):
            event = ESLEvent(outer)
            event.parse_data(body.decode("utf-8"))
        return len(frames)

    def ours_streams() -> int:
        return sum(_ours_stream(chunks) for _, chunks in plain_streams)

    def theirs_streams() -> int:
        return sum(_greenswitch_stream(raw) for raw, _ in plain_streams)

    if ours_streams() != theirs_streams():
        raise SystemExit("the two stream decoders disagree on the number of events")

    print()
    _compare("1. event decode (same event frames)", ours_events, theirs_events, options.rounds)
    print()
    _compare("2. stream (bytes -> frames -> events)", ours_streams, theirs_streams, options.rounds)

    differing = 0
    for frame, outer, body in zip(frames, outer_texts, bodies, strict=True):
        theirs = ESLEvent(outer)
        theirs.parse_data(body.decode("utf-8"))
        ours = decode_frame(frame)
        assert isinstance(ours, Event)
        expected = dict(frame.headers)
        expected.update(ours.headers)
        if ours.body is not None:
            continue  # greenswitch folds inner bodies into headers; not comparable
        if theirs.headers != expected:
            differing += 1
    print()
    print(
        f"greenswitch decodes {differing} of {len(frames)} body-less events differently "
        "(multi-line values split, values stripped)"
    )


if __name__ == "__main__":
    main()
