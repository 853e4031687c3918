# cython: language_level=3
"""COCO's compressed RLE string codec, compiled, over byte buffers.

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

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_GET_SIZE
from cython.parallel cimport prange
from libc.stdint cimport int8_t, int64_t, uint8_t, uint32_t, uint64_t
from libc.stdlib cimport free, malloc
from libc.string cimport memcpy, memmove

cdef extern from "Python.h":
    const char* PyUnicode_AsUTF8AndSize(object s, Py_ssize_t* size) except NULL
    bint PyUnicode_IS_ASCII(object s)

import numpy as np

from ioukit._threads import get_num_threads
from ioukit.rle import _kernels

__all__ = [
    "ERR_OK",
    "ERR_BAD_CHAR",
    "ERR_TRUNCATED",
    "ERR_NEGATIVE",
    "ERR_SUM",
    "ERR_TOO_LARGE",
    "decode_strings",
    "encode_strings",
    "pack_compressed",
]

ERR_OK = 0
ERR_BAD_CHAR = 1  # a byte outside '0'..'o' (48..111)
ERR_TRUNCATED = 2  # the last character still has the continuation bit set
ERR_NEGATIVE = 3  # a decoded count is negative
ERR_SUM = 4  # counts do not add up to h * w
ERR_TOO_LARGE = 5  # a count does not fit pycocotools' uint32

# The same codes for the nogil kernels.
cdef enum:
    _OK = 0
    _BAD_CHAR = 1
    _TRUNCATED = 2
    _NEGATIVE = 3
    _SUM = 4
    _TOO_LARGE = 5


cdef inline bint _small_int(object v, int64_t* out):
    # v as a C integer when it is a Python int (bool excluded) in [0, 2**31); else False.
    cdef int64_t x
    if type(v) is not int:
        return False
    try:
        x = v
    except OverflowError:
        return False
    if x < 0 or x >= 0x7FFFFFFF:
        return False
    out[0] = x
    return True


def pack_compressed(objs):
    """The strings and sizes of compressed RLE dicts, packed, or None.

    ``objs`` is a list of dicts ``{"size": [h, w], "counts": bytes | str}``. Returns
    ``(buf, offsets, heights, widths)``: the ``counts`` strings back to back in a
    (B,) uint8 array with (n + 1,) int64 offsets, and (n,) int64 sizes; ``None`` as
    soon as an element is anything else (another type, a non-ASCII string, a size
    that is not two Python ints in [0, 2**31 - 1)): the general path handles those.
    One compiled loop over the dicts, as pycocotools' ``_frString``.
    """
    cdef list seq = objs if type(objs) is list else list(objs)
    cdef Py_ssize_t n = len(seq), i, ln
    cdef int64_t total = 0, hh, ww
    cdef const char** ptrs
    cdef object o, c, sz
    heights = np.empty(n, np.int64)
    widths = np.empty(n, np.int64)
    offsets = np.empty(n + 1, np.int64)
    cdef int64_t[::1] hv = heights
    cdef int64_t[::1] wv = widths
    cdef int64_t[::1] ov = offsets
    ptrs = <const char**>malloc((n + 1) * sizeof(char*))
    if ptrs == NULL:
        raise MemoryError()
    try:
        for i in range(n):
            o = seq[i]
            if type(o) is not dict:
                return None
            c = (<dict>o).get("counts")
            sz = (<dict>o).get("size")
            if type(c) is bytes:
                ptrs[i] = PyBytes_AS_STRING(c)
                ln = PyBytes_GET_SIZE(c)
            elif type(c) is str and PyUnicode_IS_ASCII(c):
                # An ASCII str's UTF-8 form is its own buffer: no copy, no encode.
                ptrs[i] = PyUnicode_AsUTF8AndSize(c, &ln)
            else:
                return None
            if type(sz) is not list and type(sz) is not tuple:
                return None
            if len(sz) != 2 or not _small_int(sz[0], &hh) or not _small_int(sz[1], &ww):
                return None
            hv[i] = hh
            wv[i] = ww
            ov[i] = total
            total += ln
        ov[n] = total
        buf = np.empty(total, np.uint8)
        if total > 0:
            _copy_strings(ptrs, ov, buf)
    finally:
        free(ptrs)
    return buf, offsets, heights, widths


cdef void _copy_strings(const char** ptrs, const int64_t[::1] off, uint8_t[::1] buf):
    # String i (ptrs[i]) to buf[off[i]:off[i + 1]].
    cdef Py_ssize_t i
    for i in range(off.shape[0] - 1):
        if off[i + 1] > off[i]:
            memcpy(&buf[0] + off[i], ptrs[i], off[i + 1] - off[i])


cdef inline void _scan_rest(const uint8_t* s, int64_t p, int64_t size, int8_t* err,
                            int64_t* err_pos) noexcept nogil:
    # After a bad count at character p: a bad character or a truncated end later in
    # the string takes precedence (the characters are checked before the counts).
    cdef bint more = False
    cdef uint8_t b
    for p in range(p, size):
        b = s[p]
        if b < 48 or b > 111:
            err[0] = _BAD_CHAR
            err_pos[0] = p
            return
        more = ((b - 48) & 0x20) != 0
    if more:
        err[0] = _TRUNCATED
        err_pos[0] = size - 1


cdef inline bint _read_count(const uint8_t* s, int64_t* pp, int64_t size, uint64_t* out,
                             int8_t* err, int64_t* err_pos) noexcept nogil:
    # One count of any length from s[pp[0]:], pp[0] moved past it; False (with err set)
    # on a bad character or a string that ends inside the count.
    cdef int64_t p = pp[0], k = 0
    cdef uint64_t ux = 0, c
    while True:
        c = <uint64_t>s[p] - 48  # wraps to a huge value below '0'
        if c > 63:
            err[0] = _BAD_CHAR
            err_pos[0] = p
            return False
        # Bits past 64 are dropped (a valid count has at most 7 characters).
        if k < 64:
            ux |= (c & 0x1F) << k
        p += 1
        k += 5
        if (c & 0x20) == 0:
            if (c & 0x10) != 0 and k < 64:
                ux |= ~(<uint64_t>0) << k  # sign extension
            break
        if p == size:
            err[0] = _TRUNCATED
            err_pos[0] = size - 1
            return False
    pp[0] = p
    out[0] = ux
    return True


cdef inline int64_t _decode_one(const uint8_t* s, int64_t size, int64_t hw, uint32_t* counts,
                                int8_t* err, int64_t* err_pos) noexcept nogil:
    # maskApi.c rleFrString of the string s[0:size] into counts (room for size counts:
    # each takes a character at least); returns the number of counts. Checks, in this
    # order, the characters ('0'..'o', no dangling continuation), then that every
    # count fits uint32 (and is not negative), then that they add up to hw.
    cdef int64_t m = 0, p = 0, total = 0, x
    cdef uint64_t ux, c0, c1, two, mask, sign
    while p < size:
        c0 = 64
        c1 = 64
        if p + 1 < size:
            c0 = <uint64_t>s[p] - 48
            c1 = <uint64_t>s[p + 1] - 48
        if (c0 | c1) <= 63 and (c0 & c1 & 0x20) == 0:
            # Most counts (small deltas) take one or two characters: decoded without
            # a branch on which, as the loop below would.
            two = c0 >> 5  # 1 when the first character continues
            mask = 0 - two
            ux = (c0 & 0x1F) | (((c1 & 0x1F) << 5) & mask)
            sign = (((c0 & ~mask) | (c1 & mask)) >> 4) & 1
            ux |= (0 - sign) << (5 + 5 * two)  # sign extension
            p += 1 + <int64_t>two
        elif not _read_count(s, &p, size, &ux, err, err_pos):
            return m
        x = <int64_t>ux
        # maskApi.c rleFrString: counts from index 3 on are deltas to index - 2.
        if m > 2:
            x += counts[m - 2]
        if x < 0 or (x >> 32) != 0:  # negative, or more than 0xFFFFFFFF
            err[0] = _NEGATIVE if x < 0 else _TOO_LARGE
            err_pos[0] = m
            _scan_rest(s, p, size, err, err_pos)
            return m
        counts[m] = <uint32_t>x
        total += x
        m += 1
    if total != hw:
        err[0] = _SUM
        err_pos[0] = total
    return m


cdef void _decode_range(const uint8_t* b, const int64_t* off, const int64_t* hw,
                        Py_ssize_t lo, Py_ssize_t hi, uint32_t* counts, int64_t* n_runs,
                        int8_t* err, int64_t* err_pos) noexcept nogil:
    # Strings lo..hi-1, each into the span of its characters, counts[off[i] - off[0]:].
    cdef Py_ssize_t i
    for i in range(lo, hi):
        n_runs[i] = _decode_one(b + off[i], off[i + 1] - off[i], hw[i],
                                counts + (off[i] - off[0]), &err[i], &err_pos[i])


def decode_strings(buf, offsets, hw):
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
    cdef const uint8_t[::1] b = np.ascontiguousarray(buf, np.uint8)
    cdef const int64_t[::1] off = np.ascontiguousarray(offsets, np.int64)
    cdef const int64_t[::1] total = np.ascontiguousarray(hw, np.int64)
    cdef Py_ssize_t n = off.shape[0] - 1, i, chunk
    n_runs = np.zeros(n, np.int64)
    err = np.zeros(n, np.int8)
    err_pos = np.zeros(n, np.int64)
    cnt_offsets = np.zeros(n + 1, np.int64)
    # One pass: string i decodes into the span of its characters, then the runs are
    # packed to the front (a count takes one character at least).
    counts = np.empty(off[n] - off[0] if n > 0 else 0, np.uint32)
    cdef int64_t[::1] nr = n_runs
    cdef int8_t[::1] e = err
    cdef int64_t[::1] ep = err_pos
    cdef int64_t[::1] co = cnt_offsets
    cdef uint32_t[::1] c = counts
    cdef int nt = get_num_threads() if b.shape[0] >= _kernels.PARALLEL_MIN_WORK else 1
    cdef int64_t base
    if n <= 0:
        return counts, cnt_offsets, err, err_pos
    base = off[0]
    if nt > 1:
        # Chunks of strings, a few per thread, taken as threads free up.
        chunk = (n + 4 * nt - 1) // (4 * nt)
        for i in prange(0, n, chunk, nogil=True, num_threads=nt, schedule="dynamic"):
            _decode_range(&b[0], &off[0], &total[0], i, min(i + chunk, n), &c[0], &nr[0],
                          &e[0], &ep[0])
    else:
        with nogil:
            _decode_range(&b[0], &off[0], &total[0], 0, n, &c[0], &nr[0], &e[0], &ep[0])
    with nogil:
        for i in range(n):
            co[i + 1] = co[i] + nr[i]
            if nr[i] > 0 and co[i] != off[i] - base:
                memmove(&c[0] + co[i], &c[0] + (off[i] - base), nr[i] * sizeof(uint32_t))
    return counts[: co[n]], cnt_offsets, err, err_pos


cdef int64_t _encode_runs(const uint32_t* counts, const int64_t* cnt_offsets, Py_ssize_t n,
                          uint8_t* out, int64_t* out_offsets) noexcept nogil:
    # maskApi.c rleToString of every RLE, back to back into out; returns its length.
    cdef int64_t p = 0, s, j, x, c
    cdef Py_ssize_t i
    cdef bint more
    for i in range(n):
        out_offsets[i] = p
        s = cnt_offsets[i]
        for j in range(cnt_offsets[i + 1] - s):
            x = counts[s + j]
            # maskApi.c rleToString: delta to the count two places earlier from index 3.
            if j > 2:
                x -= counts[s + j - 2]
            more = True
            while more:
                c = x & 0x1F
                x >>= 5  # arithmetic shift, as C's on a signed long
                if (c & 0x10) != 0:
                    more = x != -1
                else:
                    more = x != 0
                if more:
                    c |= 0x20
                out[p] = <uint8_t>(c + 48)
                p += 1
    out_offsets[n] = p
    return p


def encode_strings(counts, cnt_offsets):
    """Encode a flat counts table into one COCO string (``bytes``) per RLE.

    Parameters
    ----------
    counts : (C,) uint32 flat counts; cnt_offsets : (n + 1,) int64.

    Returns
    -------
    list of ``n`` ``bytes``, identical to pycocotools' ``counts`` strings.
    """
    cdef const uint32_t[::1] c = np.ascontiguousarray(counts, np.uint32)
    cdef const int64_t[::1] co = np.ascontiguousarray(cnt_offsets, np.int64)
    cdef Py_ssize_t n = co.shape[0] - 1
    # A uint32 delta needs at most 33 signed bits = 7 characters of 5 bits.
    out = np.empty(max(c.shape[0] * 7, 1), np.uint8)
    out_offsets = np.empty(n + 1, np.int64)
    cdef uint8_t[::1] o = out
    cdef int64_t[::1] oo = out_offsets
    cdef int64_t size
    with nogil:
        size = _encode_runs(&c[0], &co[0], n, &o[0], &oo[0])
    raw = out[:size].tobytes()
    ob = out_offsets.tolist()
    return [raw[ob[i] : ob[i + 1]] for i in range(n)]
