"""COCO's compressed RLE string codec, as Numba kernels over byte buffers.

The format is pycocotools' ``rleToString`` / ``rleFrString`` (common/maskApi.c):
each count is written as a signed little-endian base-32 number, 5 bits per
character, characters ``chr(48 + v)`` with bit 0x20 marking "more follows" and
bit 0x10 of the last character carrying the sign. From the fourth count on
(index > 2) the difference to the count two places earlier is written instead
of the count, which keeps alternating runs of similar length short.

Many strings are decoded in one call: they are concatenated into one ``uint8``
buffer with ``int64`` offsets, and the counts come back as one flat ``uint32``
array with offsets (the "flat RLE table" every kernel in :mod:`ioukit.rle`
works on).
"""

from __future__ import annotations

import numba
import numpy as np

from .._numba_start import light_numba_start
from ._kernels import PARALLEL_MIN_WORK, twins

light_numba_start()  # before any cached kernel loads (see there)

__all__ = [
    "ERR_OK",
    "ERR_BAD_CHAR",
    "ERR_TRUNCATED",
    "ERR_NEGATIVE",
    "ERR_SUM",
    "ERR_TOO_LARGE",
    "decode_strings",
    "encode_strings",
]

ERR_OK = 0
ERR_BAD_CHAR = 1  # a byte outside '0'..'o' (48..111)
ERR_TRUNCATED = 2  # the last character still has the continuation bit set
ERR_NEGATIVE = 3  # a decoded count is negative
ERR_SUM = 4  # counts do not add up to h * w
ERR_TOO_LARGE = 5  # a count does not fit pycocotools' uint32


def _count_runs_impl(buf, offsets, n_runs, err, err_pos):
    n = offsets.size - 1
    for i in numba.prange(n):
        c = 0
        more = False
        for p in range(offsets[i], offsets[i + 1]):
            b = buf[p]
            if b < 48 or b > 111:
                err[i] = ERR_BAD_CHAR
                err_pos[i] = p - offsets[i]
                break
            more = ((b - 48) & 0x20) != 0
            if not more:
                c += 1
        if err[i] == ERR_OK and more:
            err[i] = ERR_TRUNCATED
            err_pos[i] = offsets[i + 1] - offsets[i] - 1
        n_runs[i] = c


def _decode_runs_impl(buf, offsets, cnt_offsets, hw, counts, err, err_pos):
    n = offsets.size - 1
    for i in numba.prange(n):
        if err[i] != ERR_OK:
            continue
        m = cnt_offsets[i]
        m0 = m
        p = offsets[i]
        end = offsets[i + 1]
        total = np.int64(0)
        while p < end:
            x = np.int64(0)
            k = 0
            more = True
            while more:
                c = np.int64(buf[p] - 48)
                x |= (c & 0x1F) << (5 * k)
                more = (c & 0x20) != 0
                p += 1
                k += 1
                if not more and (c & 0x10) != 0:
                    x |= np.int64(-1) << (5 * k)
            # maskApi.c rleFrString: counts from index 3 on are deltas to index-2.
            if m - m0 > 2:
                x += np.int64(counts[m - 2])
            if x < 0:
                err[i] = ERR_NEGATIVE
                err_pos[i] = m - m0
                break
            if x > 0xFFFFFFFF:
                err[i] = ERR_TOO_LARGE
                err_pos[i] = m - m0
                break
            counts[m] = np.uint32(x)
            total += x
            m += 1
        if err[i] == ERR_OK and total != hw[i]:
            err[i] = ERR_SUM
            err_pos[i] = total


_decode_runs_ser, _decode_runs_par = twins(_decode_runs_impl)
_count_runs_ser, _count_runs_par = twins(_count_runs_impl)


def decode_strings(
    buf: np.ndarray, offsets: np.ndarray, hw: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Decode concatenated COCO strings into a flat counts table.

    Parameters
    ----------
    buf : (B,) uint8, the strings back to back.
    offsets : (n + 1,) int64, string ``i`` is ``buf[offsets[i]:offsets[i + 1]]``.
    hw : (n,) int64, ``h * w`` of each RLE (the counts must add up to it).

    Returns
    -------
    counts : (C,) uint32, cnt_offsets : (n + 1,) int64, err : (n,) int8 (an
    ``ERR_*`` code, 0 when fine), err_pos : (n,) int64 (character or count
    index of the problem; the decoded sum for ``ERR_SUM``).
    """
    n = offsets.size - 1
    n_runs = np.zeros(n, np.int64)
    err = np.zeros(n, np.int8)
    err_pos = np.zeros(n, np.int64)
    big = buf.size >= PARALLEL_MIN_WORK
    (_count_runs_par if big else _count_runs_ser)(buf, offsets, n_runs, err, err_pos)
    cnt_offsets = np.zeros(n + 1, np.int64)
    np.cumsum(n_runs, out=cnt_offsets[1:])
    counts = np.zeros(int(cnt_offsets[-1]), np.uint32)
    f = _decode_runs_par if big else _decode_runs_ser
    f(buf, offsets, cnt_offsets, hw, counts, err, err_pos)
    return counts, cnt_offsets, err, err_pos


@numba.njit(cache=True)
def _encode_runs(counts, cnt_offsets, out, out_offsets):
    n = cnt_offsets.size - 1
    p = 0
    for i in range(n):
        out_offsets[i] = p
        s = cnt_offsets[i]
        for j in range(cnt_offsets[i + 1] - s):
            x = np.int64(counts[s + j])
            # maskApi.c rleToString: delta to the count two places earlier from index 3.
            if j > 2:
                x -= np.int64(counts[s + j - 2])
            more = True
            while more:
                c = x & 0x1F
                x >>= 5
                if (c & 0x10) != 0:
                    more = x != -1
                else:
                    more = x != 0
                if more:
                    c |= 0x20
                out[p] = np.uint8(c + 48)
                p += 1
    out_offsets[n] = p


def encode_strings(counts: np.ndarray, cnt_offsets: np.ndarray) -> list[bytes]:
    """Encode a flat counts table into one COCO string (``bytes``) per RLE.

    Parameters
    ----------
    counts : (C,) uint32 flat counts; cnt_offsets : (n + 1,) int64.

    Returns
    -------
    list of ``n`` ``bytes``, identical to pycocotools' ``counts`` strings.
    """
    n = cnt_offsets.size - 1
    # A uint32 delta needs at most 33 signed bits = 7 characters of 5 bits.
    out = np.empty(max(int(counts.size) * 7, 1), np.uint8)
    out_offsets = np.empty(n + 1, np.int64)
    _encode_runs(counts, cnt_offsets, out, out_offsets)
    raw = out[: out_offsets[n]].tobytes()
    o = out_offsets.tolist()
    return [raw[o[i] : o[i + 1]] for i in range(n)]
