"""Prompt audio: convert recordings to the mono 16-bit WAV FreeSWITCH plays, synthesise text.

Conversion uses sox when it is installed, else ffmpeg, else a pure-Python path that reads PCM WAV
only (any rate, 8/16/24/32-bit, any channel count), mixes to mono, low-passes with a moving
average and resamples linearly. The Python path is fine for speech prompts; sox or ffmpeg give
better filters and read MP3/OGG/FLAC as well (`apt-get install sox` or `ffmpeg`).

Text is synthesised with IVR_TTS_COMMAND (default: espeak-ng when installed, text on stdin).
"""

from __future__ import annotations

import array
import io
import shutil
import subprocess
import sys
import tempfile
import wave
from dataclasses import dataclass
from pathlib import Path

from apps.ivr.conf import ivr_setting

RATES = (8000, 16000)
MAX_INPUT_BYTES = 50 * 1024 * 1024
MAX_SECONDS = 600
TOOL_TIMEOUT_S = 60


class AudioError(Exception):
    """The audio cannot be converted or synthesised; the message says why."""


@dataclass(frozen=True)
class Converted:
    wav: bytes
    rate: int
    duration_ms: int


def converter_name() -> str:
    """Return which converter will be used: "sox", "ffmpeg" or "python"."""
    if shutil.which("sox"):
        return "sox"
    if shutil.which("ffmpeg"):
        return "ffmpeg"
    return "python"


def wav_duration_ms(data: bytes) -> int:
    with wave.open(io.BytesIO(data)) as reader:
        return int(reader.getnframes() * 1000 / reader.getframerate())


def convert(data: bytes, rate: int, *, converter: str | None = None) -> Converted:
    """Return the audio as mono 16-bit PCM WAV at `rate` (8000 or 16000)."""
    if rate not in RATES:
        raise AudioError(f"unsupported rate {rate}")
    if len(data) > MAX_INPUT_BYTES:
        raise AudioError("the recording is larger than 50 MB")
    tool = converter or converter_name()
    wav = _convert_python(data, rate) if tool == "python" else _convert_with_tool(tool, data, rate)
    duration = wav_duration_ms(wav)
    if duration > MAX_SECONDS * 1000:
        raise AudioError("the recording is longer than 10 minutes")
    return Converted(wav=wav, rate=rate, duration_ms=duration)


def _convert_with_tool(tool: str, data: bytes, rate: int) -> bytes:
    with tempfile.TemporaryDirectory(prefix="ivr-audio-") as folder:
        source = Path(folder) / "input"
        target = Path(folder) / "output.wav"
        source.write_bytes(data)
        if tool == "sox":
            argv = [
                "sox",
                str(source),
                "-r",
                str(rate),
                "-c",
                "1",
                "-b",
                "16",
                "-e",
                "signed-integer",
                str(target),
            ]
        else:
            argv = [
                "ffmpeg",
                "-nostdin",
                "-loglevel",
                "error",
                "-y",
                "-i",
                str(source),
                "-ac",
                "1",
                "-ar",
                str(rate),
                "-c:a",
                "pcm_s16le",
                str(target),
            ]
        try:
            result = subprocess.run(  # noqa: S603 - fixed argv, no shell
                argv, capture_output=True, timeout=TOOL_TIMEOUT_S, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AudioError(f"{tool} failed: {exc}") from exc
        if result.returncode != 0 or not target.exists():
            message = result.stderr.decode(errors="replace").strip()[-300:]
            raise AudioError(f"{tool} cannot read this audio: {message}")
        return target.read_bytes()


def _read_samples(data: bytes) -> tuple[list[float], int]:
    """Return the mono samples in [-1, 1] and the source rate of a PCM WAV."""
    try:
        reader = wave.open(io.BytesIO(data))  # noqa: SIM115 - closed by the `with` below
    except (wave.Error, EOFError) as exc:
        raise AudioError("without sox or ffmpeg only PCM WAV recordings can be converted") from exc
    with reader:
        channels, width, source_rate = (
            reader.getnchannels(),
            reader.getsampwidth(),
            reader.getframerate(),
        )
        if reader.getnframes() > source_rate * MAX_SECONDS:
            raise AudioError("the recording is longer than 10 minutes")
        frames = reader.readframes(reader.getnframes())
    if width == 1:
        values = [(byte - 128) / 128.0 for byte in frames]
    elif width in (2, 4):
        samples = array.array("h" if width == 2 else "i")
        samples.frombytes(frames[: len(frames) - len(frames) % width])
        if sys.byteorder == "big":
            samples.byteswap()
        scale = float(1 << (8 * width - 1))
        values = [value / scale for value in samples]
    elif width == 3:
        values = [
            int.from_bytes(frames[i : i + 3], "little", signed=True) / 8388608.0
            for i in range(0, len(frames) - 2, 3)
        ]
    else:
        raise AudioError(f"unsupported sample width {width}")
    if channels > 1:
        values = [sum(values[i : i + channels]) / channels for i in range(0, len(values), channels)]
    return values, source_rate


def _convert_python(data: bytes, rate: int) -> bytes:
    values, source_rate = _read_samples(data)
    if source_rate != rate and values:
        if source_rate > rate:
            # Moving average over one output period: a crude low-pass against aliasing.
            width = max(1, round(source_rate / rate))
            if width > 1:
                running = 0.0
                smoothed = []
                for index, value in enumerate(values):
                    running += value
                    if index >= width:
                        running -= values[index - width]
                    smoothed.append(running / min(index + 1, width))
                values = smoothed
        step = source_rate / rate
        count = round(len(values) * rate / source_rate)
        resampled = []
        last = len(values) - 1
        for index in range(count):
            position = index * step
            base = min(int(position), last)
            fraction = position - base
            following = values[base + 1] if base < last else values[last]
            resampled.append(values[base] * (1 - fraction) + following * fraction)
        values = resampled
    pcm = array.array("h", (max(-32768, min(32767, round(v * 32767))) for v in values))
    if sys.byteorder == "big":
        pcm.byteswap()
    output = io.BytesIO()
    with wave.open(output, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(rate)
        writer.writeframes(pcm.tobytes())
    return output.getvalue()


def tts_command() -> list[str] | None:
    """Return the synthesis argv template, or None when no engine is configured or installed."""
    configured = ivr_setting("IVR_TTS_COMMAND")
    if configured is not None:
        return list(configured) or None
    if shutil.which("espeak-ng"):
        return ["espeak-ng", "-v", "{voice}", "-w", "{output}", "--stdin"]
    return None


def synthesise(text: str, language: str) -> bytes:
    """Return WAV bytes speaking the text in the language's configured voice (text on stdin)."""
    template = tts_command()
    if template is None:
        raise AudioError("no text-to-speech engine is configured or installed")
    voice = ivr_setting("IVR_TTS_VOICES").get(language, language)
    with tempfile.TemporaryDirectory(prefix="ivr-tts-") as folder:
        output = Path(folder) / "speech.wav"
        argv = [part.format(voice=voice, output=str(output)) for part in template]
        try:
            result = subprocess.run(  # noqa: S603 - argv from settings, never from callers
                argv,
                input=text.encode(),
                capture_output=True,
                timeout=TOOL_TIMEOUT_S,
                check=False,
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise AudioError(f"text-to-speech failed: {exc}") from exc
        if result.returncode != 0 or not output.exists():
            message = result.stderr.decode(errors="replace").strip()[-300:]
            raise AudioError(f"text-to-speech failed: {message}")
        return output.read_bytes()
