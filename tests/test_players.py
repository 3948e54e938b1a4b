"""Notebook players: MP3 (or Ogg) that decodes back to the same sound, a spectrogram beside
every player, clips cut to max_seconds, small HTML, short text repr, clear errors."""

import base64
import io
import re

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream.errors import AudioInputError, AuditoryDeepDreamError
from auditory_deepdream.players import (
    MP3_SAMPLE_RATES,
    Player,
    PlayerRow,
    compressed_audio,
    player,
    players,
)

SR = 22050


def music(seconds, *, sample_rate=SR, seed=0):
    """Noise-like music: a detuned harmonic tone, gated into notes, over a noise floor."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    tone = sum(0.15 / k * np.sin(2 * np.pi * 220 * k * t * (1 + 0.01 * np.sin(3 * t))) for k in range(1, 9))
    gate = (np.sin(2 * np.pi * 2 * t) > 0).astype(float)
    return (tone * gate + 0.05 * rng.standard_normal(t.size)).astype(np.float32)


def decode(data):
    y, rate = sf.read(io.BytesIO(data), always_2d=True)
    return y.T, rate


def rms(y):
    return float(np.sqrt(np.mean(np.square(y))))


def test_mp3_decodes_to_the_same_sound(cello, settings):
    data = compressed_audio(cello, sample_rate=settings.sample_rate)
    assert data[0] == 0xFF and data[1] >> 5 == 0b111  # MPEG frame sync: an MP3 stream
    back, rate = decode(data)
    assert rate == settings.sample_rate and back.shape == (1, len(cello))  # same duration, sample-exact
    assert np.corrcoef(back[0], cello)[0, 1] > 0.95
    assert rms(back) == pytest.approx(rms(cello), rel=0.1)  # loudness kept (no normalisation)
    # about 64 kbit/s: 15 s of mono stay well under 150 KB
    assert len(data) * 8 / (len(cello) / rate) / 1000 == pytest.approx(64, rel=0.15)


def test_size_of_fifteen_seconds_mono():
    data = compressed_audio(music(15), sample_rate=SR)
    assert 60_000 < len(data) < 150_000


def test_stereo_stays_stereo_and_channels_stay_apart():
    left, right = music(2), 0.5 * music(2, seed=1)[::-1]
    back, rate = decode(compressed_audio(np.stack([left, right]), sample_rate=SR))
    assert rate == SR and back.shape == (2, len(left))
    assert np.corrcoef(back[0], left)[0, 1] > 0.9 and np.corrcoef(back[1], right)[0, 1] > 0.9
    assert rms(back[1]) == pytest.approx(rms(right), rel=0.15)


def test_clips_to_max_seconds_and_none_keeps_all():
    y = music(20)
    back, _ = decode(compressed_audio(y, sample_rate=SR))
    assert back.shape[1] == 15 * SR  # the default: 15 s
    back, _ = decode(compressed_audio(y, sample_rate=SR, max_seconds=2.5))
    assert back.shape[1] == int(2.5 * SR)
    assert np.corrcoef(back[0], y[: back.shape[1]])[0, 1] > 0.95  # the start, not some other part
    back, _ = decode(compressed_audio(y, sample_rate=SR, max_seconds=None))
    assert back.shape[1] == len(y)


def test_loud_audio_is_scaled_to_peak_one_quiet_audio_is_not_raised():
    y = music(1)
    quiet, _ = decode(compressed_audio(0.1 * y / np.abs(y).max(), sample_rate=SR))
    assert 0.07 < np.abs(quiet).max() < 0.13  # not normalised up
    loud, _ = decode(compressed_audio(4 * y / np.abs(y).max(), sample_rate=SR))
    assert 0.85 < np.abs(loud).max() < 1.05  # scaled down to a peak of 1, not clipped at 4x
    assert np.corrcoef(loud[0], y)[0, 1] > 0.95


@pytest.mark.parametrize("rate, expected", [(16000, 16000), (44100, 44100), (17000, 22050), (96000, 48000)])
def test_unsupported_mp3_rates_are_resampled(rate, expected):
    y = music(1, sample_rate=rate)
    back, got = decode(compressed_audio(y, sample_rate=rate))
    assert got == expected and got in MP3_SAMPLE_RATES
    assert back.shape[1] == pytest.approx(expected, rel=0.01)  # still one second
    assert rms(back) == pytest.approx(rms(y), rel=0.15)


def test_ogg_vorbis():
    y = music(2)
    data = compressed_audio(y, sample_rate=SR, format="ogg")
    assert data[:4] == b"OggS"
    back, rate = decode(data)
    assert rate == SR and back.shape == (1, len(y)) and np.corrcoef(back[0], y)[0, 1] > 0.9


def test_integer_pcm_is_scaled_by_full_scale():
    y = music(1)
    back, _ = decode(compressed_audio((y * 32767).astype(np.int16), sample_rate=SR))
    assert rms(back) == pytest.approx(rms(y), rel=0.1)


@pytest.mark.parametrize("y, options, words", [
    (np.zeros(0, np.float32), {}, "no samples"),
    (np.array([0.1, np.nan, 0.2]), {}, "NaN"),
    (np.array([0.1, np.inf, 0.2]), {}, "NaN or infinite"),
    (np.zeros((1, 2, 100)), {}, "shape"),
    (np.zeros((1000, 2)), {}, "y.T"),
    (np.zeros(100), {"sample_rate": 0}, "sample_rate"),
    (np.zeros(100), {"sample_rate": -22050}, "sample_rate"),
    (np.zeros(100), {"format": "wav"}, "'mp3'"),
    (np.zeros(100), {"max_seconds": 0}, "max_seconds"),
    (np.array(["a", "b"]), {}, "dtype"),
])
def test_bad_input_raises_audio_input_error(y, options, words):
    with pytest.raises(AudioInputError, match=re.escape(words)) as info:
        compressed_audio(y, **{"sample_rate": SR, **options})
    assert isinstance(info.value, AuditoryDeepDreamError) and isinstance(info.value, ValueError)


def _embedded(html, kind):
    """The decoded payloads of data URIs of one MIME type in ``html``."""
    return [base64.b64decode(m) for m in re.findall(rf'data:{kind};base64,([A-Za-z0-9+/=]+)"', html)]


def test_player_html_has_mp3_spectrogram_and_title():
    y = music(3)
    p = player(y, sample_rate=SR, title="dream <1>")
    html = p._repr_html_()
    assert '<audio controls preload="none"' in html and "audio/wav" not in html
    (mp3,) = _embedded(html, "audio/mpeg")
    back, rate = decode(mp3)
    assert rate == SR and back.shape[1] == len(y)
    (png,) = _embedded(html, "image/png")
    assert png[:4] == b"\x89PNG" and "<img" in html
    from PIL import Image

    image = Image.open(io.BytesIO(png))
    assert image.size == (360, 140)
    colours = np.asarray(image.convert("RGB")).reshape(-1, 3)
    assert len(np.unique(colours, axis=0)) > 8  # a picture, not a blank
    assert "dream &lt;1&gt; · 3.0 s" in html  # the title, escaped, with the duration
    assert repr(p) == "Player('dream <1>', 3.0 s, 22050 Hz)"


def test_player_clips_and_says_so():
    p = player(music(20), sample_rate=SR, title="long")
    assert (p.seconds, p.total_seconds) == (15.0, 20.0)
    assert "first 15.0 s of 20.0 s" in p._repr_html_()
    assert decode(p.audio)[0].shape[1] == 15 * SR
    assert player(music(20), sample_rate=SR, max_seconds=None).seconds == 20.0


def test_player_without_spectrogram_and_stereo():
    p = player(np.stack([music(1), music(1, seed=2)]), sample_rate=SR, spectrogram=False)
    html = p._repr_html_()
    assert p.image is None and "<img" not in html and p.channels == 2 and "stereo" in html
    assert repr(p) == "Player(1.0 s, 22050 Hz)"


def test_html_sizes():
    fifteen = player(music(15), sample_rate=SR, title="fifteen")._repr_html_()
    three = player(music(3), sample_rate=SR, title="three")._repr_html_()
    assert len(fifteen) < 250_000 and len(three) < 80_000
    # IPython's Audio embeds 16-bit WAV in base64: ~880 KB for 15 s
    assert len(fifteen) < (15 * SR * 2) * 4 / 3 / 3


def test_players_row():
    clips = {"input": music(2), "dream": music(2, seed=3), "other": np.stack([music(1), music(1, seed=4)])}
    row = players(clips, sample_rate=SR, columns=2)
    assert isinstance(row, PlayerRow) and len(row) == 3 and all(isinstance(p, Player) for p in row)
    assert [p.title for p in row] == ["input", "dream", "other"] and row[1].seconds == 2.0
    assert row[2].channels == 2 and row[2].image[:4] == b"\x89PNG"  # stereo gets a spectrogram too
    html = row._repr_html_()
    assert "display:flex" in html and "flex-wrap:wrap" in html
    assert html.count("<audio") == 3 and html.count("<img") == 3
    assert len(_embedded(html, "audio/mpeg")) == 3
    assert html.index("input") < html.index("dream") < html.index("other")
    assert repr(row) == "PlayerRow(3 players: 'input', 'dream', 'other')"
    listed = players([("a", music(1)), ("b", music(1))], sample_rate=SR, max_seconds=0.5)
    assert [p.seconds for p in listed] == [0.5, 0.5]


@pytest.mark.parametrize("items, options", [({}, {}), ([np.zeros(10)], {}), (np.zeros(10), {}),
                                            ({"a": np.zeros(10)}, {"columns": 0})])
def test_players_bad_input(items, options):
    with pytest.raises(AudioInputError):
        players(items, sample_rate=SR, **options)


def test_text_repr_is_short_for_ipython():
    from IPython.core.formatters import DisplayFormatter

    p = player(music(15), sample_rate=SR, title="t")
    data, _ = DisplayFormatter().format(p)
    assert data["text/plain"] == "Player('t', 15.0 s, 22050 Hz)"
    assert "text/html" in data and "audio/mpeg" in data["text/html"]
    row_data, _ = DisplayFormatter().format(players({"x": music(1)}, sample_rate=SR))
    assert len(row_data["text/plain"]) < 80 and "text/html" in row_data
