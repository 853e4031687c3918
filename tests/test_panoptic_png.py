"""ioukit.panoptic's built-in PNG reader against zlib and Pillow (the oracles).

- inflate: every stream zlib's deflate makes (stored, fixed and dynamic blocks, every
  level and strategy) decodes to the original bytes; damaged streams fail cleanly;
- unfiltering: PNGs written here with each row filter (None, Sub, Up, Average, Paeth;
  the filters computed from the PNG specification's formulas), decoded by ioukit and by
  Pillow, give the same pixels;
- files: what the built-in reader refuses (palette, 16-bit, a bad CRC) goes to Pillow.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ioukit.errors import DatasetError
from ioukit.panoptic import _pngkernel as K
from ioukit.panoptic._png import _decode_builtin, read_pixels

Image = pytest.importorskip("PIL.Image")

STRATEGIES = [
    zlib.Z_DEFAULT_STRATEGY,
    zlib.Z_FILTERED,
    zlib.Z_HUFFMAN_ONLY,
    zlib.Z_RLE,
    zlib.Z_FIXED,
]


def deflate(data: bytes, level: int, strategy: int, wbits: int = 15) -> bytes:
    c = zlib.compressobj(level, zlib.DEFLATED, wbits, 9, strategy)
    return c.compress(data) + c.flush()


def inflate(comp: bytes, size: int) -> tuple[int, bytes]:
    out = np.zeros(size, np.uint8)
    n = K.zlib_inflate(np.frombuffer(comp, np.uint8), out)
    return n, out.tobytes()


def sample_bytes(rng: np.random.Generator, kind: int, n: int) -> bytes:
    if kind == 0:  # incompressible
        return rng.integers(0, 256, n, dtype=np.uint8).tobytes()
    if kind == 1:  # few symbols
        return rng.integers(0, 3, n, dtype=np.uint8).tobytes()
    if kind == 2:  # short period: overlapping copies of distance < 8
        return bytes(rng.integers(0, 256, int(rng.integers(1, 9)), dtype=np.uint8)) * (n // 4 + 1)
    if kind == 3:  # runs
        return np.repeat(
            rng.integers(0, 256, 64, dtype=np.uint8), rng.integers(1, 400, 64)
        ).tobytes()
    return b"\0" * n  # one long run (distance 1)


def test_inflate_equals_zlib_for_every_level_and_strategy():
    rng = np.random.default_rng(0)
    for trial in range(400):
        data = sample_bytes(
            rng, trial % 5, int(rng.integers(0, 70_000 if trial % 40 == 0 else 3000))
        )
        level = int(rng.integers(0, 10))  # 0: stored blocks
        comp = deflate(
            data, level, STRATEGIES[trial % len(STRATEGIES)], wbits=int(rng.integers(9, 16))
        )
        assert inflate(comp, len(data)) == (len(data), data), (trial, level)


@settings(max_examples=60, deadline=None)
@given(st.binary(max_size=3000), st.integers(0, 9), st.sampled_from(STRATEGIES))
def test_inflate_round_trips(data, level, strategy):
    assert inflate(deflate(data, level, strategy), len(data)) == (len(data), data)


def test_damaged_streams_fail_cleanly():
    rng = np.random.default_rng(1)
    data = sample_bytes(rng, 3, 5000)
    comp = deflate(data, 6, zlib.Z_DEFAULT_STRATEGY)
    assert inflate(comp, len(data) - 1)[0] < 0  # output longer than the buffer
    for cut in range(2, len(comp) - 4, 7):  # truncated inside the deflate data
        assert inflate(comp[:cut], len(data))[0] != len(data)
    for _ in range(300):  # random damage: any answer but a crash
        bad = bytearray(comp)
        bad[int(rng.integers(2, len(bad)))] ^= 1 << int(rng.integers(0, 8))
        inflate(bytes(bad), len(data))
    assert inflate(b"\x78", 10)[0] < 0 and inflate(b"\x79\x9c", 10)[0] < 0  # bad headers


# ---------------------------------------------------------------- PNG files
def png_filter(raw: np.ndarray, prev: np.ndarray, f: int, bpp: int) -> np.ndarray:
    """The filtered bytes of one row (PNG specification, section 9.2), in plain Python."""
    out = np.zeros_like(raw)
    for x in range(raw.size):
        a = int(raw[x - bpp]) if x >= bpp else 0
        b = int(prev[x])
        c = int(prev[x - bpp]) if x >= bpp else 0
        if f == 0:
            pred = 0
        elif f == 1:
            pred = a
        elif f == 2:
            pred = b
        elif f == 3:
            pred = (a + b) // 2
        else:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
        out[x] = (int(raw[x]) - pred) % 256
    return out


def chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png(pixels: np.ndarray, filters: list[int], split_idat: int = 1) -> bytes:
    h, w, c = pixels.shape
    rows, prev = [], np.zeros(w * c, np.uint8)
    for y in range(h):
        raw = pixels[y].reshape(-1)
        rows.append(bytes([filters[y]]) + png_filter(raw, prev, filters[y], c).tobytes())
        prev = raw
    data = zlib.compress(b"".join(rows), 6)
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 2 if c == 3 else 6, 0, 0, 0)
    step = max(1, len(data) // split_idat + 1)
    idats = b"".join(chunk(b"IDAT", data[k : k + step]) for k in range(0, len(data), step))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", ihdr)
        + chunk(b"tEXt", b"k\0v")
        + idats
        + chunk(b"IEND", b"")
    )


def pillow_pixels(png: bytes) -> np.ndarray:
    import io

    return np.asarray(Image.open(io.BytesIO(png)))


def ours(png: bytes) -> np.ndarray:
    px = _decode_builtin(png)
    assert px is not None
    rows = px.data.reshape(px.height, px.stride)[:, px.start :]
    return rows.reshape(px.height, px.width, px.channels)


@pytest.mark.parametrize("channels", [3, 4])
def test_every_row_filter_decodes_like_pillow(channels):
    rng = np.random.default_rng(channels)
    for trial in range(12):
        h, w = int(rng.integers(1, 14)), int(rng.integers(1, 17))
        px = rng.integers(0, 256, (h, w, channels), dtype=np.uint8)
        if trial % 3 == 0:  # flat regions, like panoptic PNGs
            px = (px // 128 * 255).astype(np.uint8)
        filters = [int(f) for f in rng.integers(0, 5, h)]
        png = make_png(px, filters, split_idat=1 + trial % 3)
        np.testing.assert_array_equal(pillow_pixels(png), px)  # the oracle agrees
        np.testing.assert_array_equal(ours(png), px)


def test_pillow_written_pngs(tmp_path):
    rng = np.random.default_rng(5)
    for k in range(10):
        px = rng.integers(0, 256, (int(rng.integers(1, 30)), int(rng.integers(1, 30)), 3), np.uint8)
        Image.fromarray(px).save(tmp_path / f"{k}.png", compress_level=k)
        a = read_pixels(tmp_path / f"{k}.png")
        got = a.data.reshape(a.height, a.stride)[:, a.start :].reshape(px.shape)
        np.testing.assert_array_equal(got, px)


def test_other_pngs_fall_back_to_pillow(tmp_path):
    rgb = np.arange(2 * 3 * 3, dtype=np.uint8).reshape(2, 3, 3)
    png = make_png(rgb, [0, 1])
    bad_crc = bytearray(png)
    bad_crc[-20] ^= 1  # inside the last IDAT: its CRC no longer matches
    assert _decode_builtin(bytes(bad_crc)) is None
    (tmp_path / "bad.png").write_bytes(bytes(bad_crc))
    with pytest.raises(DatasetError, match="bad.png"):
        read_pixels(tmp_path / "bad.png")
    # 16-bit RGB: not the panoptic format, Pillow reads it
    Image.fromarray(np.zeros((2, 2), np.uint16)).save(tmp_path / "gray16.png")
    assert _decode_builtin((tmp_path / "gray16.png").read_bytes()) is None
    Image.fromarray(rgb).convert("P").save(tmp_path / "palette.png")
    assert _decode_builtin((tmp_path / "palette.png").read_bytes()) is None
    with pytest.raises(DatasetError, match="mode P"):
        read_pixels(tmp_path / "palette.png")
    assert _decode_builtin(b"not a png") is None


def test_compiled_doctests():
    import doctest

    from ioukit.panoptic import _kernels

    for mod in (K, _kernels):
        res = doctest.testmod(mod, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert res.failed == 0 and res.attempted > 0, mod.__name__
