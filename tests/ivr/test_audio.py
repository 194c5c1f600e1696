"""Prompt audio: recordings converted to mono 16-bit WAV at 8 and 16 kHz, text synthesised."""

from __future__ import annotations

import array
import io
import math
import shutil
import sys
import wave

import pytest

from apps.ivr import audio


def _wav(rate: int, channels: int, width: int, seconds: float = 0.4) -> bytes:
    frames = int(rate * seconds)
    output = io.BytesIO()
    with wave.open(output, "wb") as writer:
        writer.setnchannels(channels)
        writer.setsampwidth(width)
        writer.setframerate(rate)
        peak = (1 << (8 * width - 1)) - 1
        data = bytearray()
        for index in range(frames):
            value = int(peak * 0.5 * math.sin(2 * math.pi * 440 * index / rate))
            for _channel in range(channels):
                if width == 1:
                    data += bytes([value + 128])
                else:
                    data += value.to_bytes(width, "little", signed=True)
        writer.writeframes(bytes(data))
    return output.getvalue()


def _describe(data: bytes) -> tuple[int, int, int, int]:
    with wave.open(io.BytesIO(data)) as reader:
        return (
            reader.getnchannels(),
            reader.getsampwidth(),
            reader.getframerate(),
            reader.getnframes(),
        )


@pytest.mark.parametrize(
    ("rate", "channels", "width"), [(44100, 2, 2), (48000, 1, 3), (11025, 1, 1), (22050, 2, 4)]
)
@pytest.mark.parametrize("target", [8000, 16000])
def test_the_python_converter_makes_mono_16_bit_at_the_target_rate(rate, channels, width, target):
    converted = audio.convert(_wav(rate, channels, width), target, converter="python")

    assert _describe(converted.wav) == (1, 2, target, target * 2 // 5)
    assert converted.duration_ms == 400
    with wave.open(io.BytesIO(converted.wav)) as reader:
        samples = array.array("h", reader.readframes(reader.getnframes()))
    assert 0.3 * 32767 < max(samples) < 0.6 * 32767  # the tone survives, unclipped


def test_without_sox_or_ffmpeg_only_wav_can_be_converted():
    with pytest.raises(audio.AudioError, match="only PCM WAV"):
        audio.convert(b"ID3\x03\x00 not a wav", 8000, converter="python")


@pytest.mark.skipif(shutil.which("sox") is None, reason="sox is not installed")
def test_sox_converts_when_installed():
    converted = audio.convert(_wav(44100, 2, 2), 8000, converter="sox")

    assert _describe(converted.wav) == (1, 2, 8000, 3200)


def test_text_is_synthesised_with_the_configured_command(settings):
    script = (
        "import sys, wave; w = wave.open(sys.argv[1], 'wb'); w.setnchannels(1); "
        "w.setsampwidth(2); w.setframerate(22050); "
        "w.writeframes(b'\\x00\\x01' * len(sys.stdin.read()) * 100); w.close()"
    )
    settings.IVR_TTS_COMMAND = [sys.executable, "-c", script, "{output}"]

    wav = audio.synthesise("hello", "en")

    assert _describe(wav) == (1, 2, 22050, 500)


def test_no_engine_means_no_synthesis(settings):
    settings.IVR_TTS_COMMAND = []

    assert audio.tts_command() is None
    with pytest.raises(audio.AudioError, match="no text-to-speech engine"):
        audio.synthesise("hello", "en")


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")
def test_espeak_ng_speaks_chinese_and_english_when_installed(settings):
    settings.IVR_TTS_COMMAND = None

    for language, text in (("en", "Please hold"), ("zh-hans", "请稍候")):
        wav = audio.synthesise(text, language)
        channels, width, _rate, frames = _describe(wav)
        assert (channels, width) == (1, 2)
        assert frames > 0
