# cython: language_level=3
r"""Compiled kernel behind :mod:`ioukit.io._jsonseg`: COCO segmentations from JSON bytes.

Each row is the raw JSON value of one ``segmentation`` (already validated by the
byte scanner). :func:`parse` reads every row twice, rows split across OpenMP
threads: a first pass sizes the outputs, a second writes

- polygons (``[[x0, y0, ...], ...]``): coordinates converted by the correctly rounded
  helpers of ``_jsonkernel.pxd`` (a token they cannot decide is written NaN and left
  to the caller, which converts it with Python's ``float``);
- compressed RLE (``{"size": [h, w], "counts": "..."}``): the string decoded on the
  fly (pycocotools maskApi.c ``rleFrString``; the JSON escapes ``\\`` and ``\/`` are
  undone, COCO's alphabet contains the backslash) into uint32 counts;
- uncompressed RLE (``"counts": [c0, c1, ...]``): the counts as uint32;

and, for a valid RLE, its area and box (maskApi.c ``rleArea`` / ``rleToBbox``, the
walks of ``ioukit.geometry._runs``) while its counts are still in cache.
Anything else (see ``_jsonseg``) fails the row, and the caller takes the general path.
"""

from cython.parallel cimport prange
from libc.math cimport NAN
from libc.stdint cimport int8_t, int64_t, uint8_t, uint32_t
from libc.string cimport memcmp

from ioukit.geometry._runs cimport rle_area_one, rle_bbox_one
from ioukit.io._jsonkernel cimport (
    Decimal,
    parse_int,
    parse_number,
    skip_number,
    skip_ws,
    to_double,
)

import numpy as np

cdef enum:
    KIND_ABSENT = -1
    KIND_POLY = 0
    KIND_STR = 1
    KIND_LIST = 2
    FAIL = 1  # a value outside what this parser takes: the Python path decodes it

cdef int64_t U32MAX = 0xFFFFFFFF


# One row's outcome. The sizing pass fills the counts (n_xy, n_poly, n_cnt); the
# writing pass the rest. Any status but 0 leaves the other fields 0.
cdef struct Row:
    int status
    int64_t n_xy  # polygon coordinates
    int64_t n_poly  # polygons
    int64_t n_cnt  # RLE counts
    int kind  # KIND_*
    int64_t h, w  # an RLE's size
    int64_t total  # the sum of its counts


# Where the writing pass puts one row's values (NULL pointers in the sizing pass).
cdef struct Dest:
    double* xy  # coordinates from xy[0]
    int64_t x0  # the absolute index of xy[0] (polygon starts are absolute)
    int64_t* poly_off  # polygon starts from poly_off[0]
    uint32_t* cnts  # counts from cnts[0]


cdef inline Row _fail() noexcept nogil:
    cdef Row out
    out.status = FAIL
    out.n_xy = 0
    out.n_poly = 0
    out.n_cnt = 0
    out.kind = 0
    out.h = 0
    out.w = 0
    out.total = 0
    return out


cdef inline bint _key_is(const uint8_t* buf, Py_ssize_t s, Py_ssize_t e,
                         const char* key, Py_ssize_t klen) noexcept nogil:
    # the object key buf[s:e] (between its quotes) is key
    return e - s == klen and memcmp(buf + s, key, klen) == 0


cdef Row _polygons(const uint8_t* buf, Py_ssize_t s, Py_ssize_t e, bint write,
                   Dest* dst) noexcept nogil:
    # '[[x0, y0, ...], ...]': at least 3 points and an even count per polygon
    cdef Row out = _fail()
    cdef Py_ssize_t i, j, k0
    cdef int64_t nx = 0, npo = 0, m
    cdef uint8_t c
    cdef Decimal d
    cdef bint ok
    cdef double v
    i = skip_ws(buf, s + 1, e)
    if i < e and buf[i] == 93:
        return out  # an empty list: the Python path names it
    while True:
        if i >= e or buf[i] != 91:
            return out
        i = skip_ws(buf, i + 1, e)
        k0 = nx
        if i < e and buf[i] != 93:
            while True:
                if i >= e:
                    return out
                c = buf[i]
                if not (c == 45 or (c >= 48 and c <= 57)):
                    return out
                if write:
                    d = parse_number(buf, i, e)
                    j = d.end
                    if j < 0:
                        return out
                    ok, v = to_double(&d)
                    dst.xy[nx] = v if ok else NAN
                else:
                    j = skip_number(buf, i, e)
                    if j < 0:
                        return out
                nx += 1
                i = skip_ws(buf, j, e)
                if i < e and buf[i] == 44:
                    i = skip_ws(buf, i + 1, e)
                    continue
                break
        if i >= e or buf[i] != 93:
            return out
        m = nx - k0
        if m < 6 or m % 2 == 1:
            return out
        if write:
            dst.poly_off[npo] = dst.x0 + k0
        npo += 1
        i = skip_ws(buf, i + 1, e)
        if i < e and buf[i] == 44:
            i = skip_ws(buf, i + 1, e)
            continue
        break
    if i >= e or buf[i] != 93:
        return out
    out.status = 0
    out.n_xy = nx
    out.n_poly = npo
    out.kind = KIND_POLY
    return out


cdef Py_ssize_t _counts_string(const uint8_t* buf, Py_ssize_t i, Py_ssize_t e, bint write,
                               uint32_t* cnts, int64_t* nc_out, int64_t* total) noexcept nogil:
    """The compressed counts string whose opening quote is buf[i - 1]: the index after
    its closing quote, or -1 (not a valid string).

    maskApi.c rleFrString, read straight from the JSON text: 5-bit groups, bit 0x20
    "more follows", bit 0x10 of the last the sign; counts from index 3 on are deltas
    to the count two places earlier.
    """
    cdef int64_t nc = 0
    cdef int64_t x = 0
    cdef int64_t v
    cdef int k = 0
    cdef bint more = False
    cdef uint8_t c
    if not write:
        # sizing pass: one count ends at each character without the "more" bit,
        # '0'..'O' (48..79); escapes ('\\', '\/') never do. The writing pass decodes
        # and validates: on a valid string it writes exactly this many counts, on an
        # invalid one it stops early and fails.
        while i < e:
            c = buf[i]
            if c == 34:
                break
            if c == 92:
                i += 2
                continue
            if c >= 48 and c < 80:
                nc += 1
            i += 1
        if i >= e:
            return -1
        nc_out[0] = nc
        return i + 1
    while i < e and buf[i] != 34:
        c = buf[i]
        if c == 92:
            # COCO strings hold '\\' (ASCII 92); '\/' is legal JSON too
            if i + 1 < e and (buf[i + 1] == 92 or buf[i + 1] == 47):
                c = buf[i + 1]
                i += 1
            else:
                return -1
        i += 1
        if c < 48 or c > 111 or k > 11:
            return -1  # the codec words the error
        v = c - 48
        x |= (v & 0x1F) << (5 * k)
        k += 1
        more = (v & 0x20) != 0
        if not more:
            if (v & 0x10) != 0:
                x |= -((<int64_t>1) << (5 * k))  # sign-extend: (-1) << 5k, without UB
            if nc > 2:
                x += cnts[nc - 2]
            if x < 0 or x > U32MAX:
                return -1
            cnts[nc] = <uint32_t>x
            total[0] += x
            nc += 1
            x = 0
            k = 0
    if i >= e or more:
        return -1
    nc_out[0] = nc
    return i + 1


cdef Row _rle(const uint8_t* buf, Py_ssize_t s, Py_ssize_t e, bint write,
              Dest* dst) noexcept nogil:
    # '{"size": [h, w], "counts": "..." or [...]}', each key once and nothing else
    cdef Row out = _fail()
    cdef Py_ssize_t i, j, ks, ke
    cdef bint got_counts = False, got_size = False
    cdef int kd = KIND_STR
    cdef int64_t nc = 0, total = 0, h = -1, w = -1, v
    cdef uint8_t c
    i = skip_ws(buf, s + 1, e)
    while i < e and buf[i] == 34:
        ks = i + 1
        ke = ks
        while ke < e and buf[ke] != 34 and buf[ke] != 92:
            ke += 1
        if ke >= e or buf[ke] != 34:
            return out
        i = skip_ws(buf, ke + 1, e)
        if i >= e or buf[i] != 58:
            return out
        i = skip_ws(buf, i + 1, e)
        if i >= e:
            return out
        if _key_is(buf, ks, ke, b"counts", 6) and not got_counts:
            got_counts = True
            if buf[i] == 34:
                kd = KIND_STR
                i = _counts_string(buf, i + 1, e, write, dst.cnts, &nc, &total)
                if i < 0:
                    return out
            elif buf[i] == 91:
                kd = KIND_LIST
                i = skip_ws(buf, i + 1, e)
                if i < e and buf[i] != 93:
                    while True:
                        if i >= e:
                            return out
                        c = buf[i]
                        if not (c == 45 or (c >= 48 and c <= 57)):
                            return out
                        j, v = parse_int(buf, i, e)
                        if j < 0 or v < 0 or v > U32MAX:
                            return out
                        if write:
                            dst.cnts[nc] = <uint32_t>v
                            total += v
                        nc += 1
                        i = skip_ws(buf, j, e)
                        if i < e and buf[i] == 44:
                            i = skip_ws(buf, i + 1, e)
                            continue
                        break
                if i >= e or buf[i] != 93:
                    return out
                i += 1
            else:
                return out
        elif _key_is(buf, ks, ke, b"size", 4) and not got_size:
            got_size = True
            if buf[i] != 91:
                return out
            i = skip_ws(buf, i + 1, e)
            if i >= e or not (buf[i] >= 48 and buf[i] <= 57):
                return out
            j, h = parse_int(buf, i, e)
            if j < 0:
                return out
            i = skip_ws(buf, j, e)
            if i >= e or buf[i] != 44:
                return out
            i = skip_ws(buf, i + 1, e)
            if i >= e or not (buf[i] >= 48 and buf[i] <= 57):
                return out
            j, w = parse_int(buf, i, e)
            if j < 0:
                return out
            i = skip_ws(buf, j, e)
            if i >= e or buf[i] != 93:
                return out
            i += 1
        else:
            return out
        i = skip_ws(buf, i, e)
        if i < e and buf[i] == 44:
            i = skip_ws(buf, i + 1, e)
            continue
        break
    if i >= e or buf[i] != 125 or not (got_counts and got_size):
        return out
    out.status = 0
    out.n_cnt = nc
    out.kind = kd
    out.h = h
    out.w = w
    out.total = total
    return out


cdef inline Row _row(const uint8_t* buf, int64_t s, int64_t e, uint8_t c0, bint write,
                     Dest* dst) noexcept nogil:
    # One segmentation value buf[s:e] (s < 0: the record has none), c0 its first byte.
    cdef Row out
    if s < 0:
        out = _fail()
        out.status = 0
        out.kind = KIND_ABSENT
        return out
    if c0 == 91:
        return _polygons(buf, s, e, write, dst)
    if c0 == 123:
        return _rle(buf, s, e, write, dst)
    return _fail()


cdef inline Row _write_row(const uint8_t* buf, int64_t s, int64_t e, uint8_t c0, double* xy,
                           int64_t x0, int64_t* poly_off, uint32_t* cnts) noexcept nogil:
    # The writing pass of one row, into its own slices (a Dest private to the thread).
    cdef Dest dst
    dst.xy = xy
    dst.x0 = x0
    dst.poly_off = poly_off
    dst.cnts = cnts
    return _row(buf, s, e, c0, True, &dst)


cdef inline bint _is_full_rle(const Row* r) noexcept nogil:
    # a valid RLE whose counts cover exactly h * w > 0 pixels (no int64 overflow)
    if r.status != 0 or r.kind == KIND_POLY or r.kind == KIND_ABSENT:
        return False
    if r.h <= 0 or r.w <= 0 or r.total % r.h != 0:
        return False
    return r.total // r.h == r.w


def _offsets(lengths):
    # [0, l0, l0 + l1, ...] as int64
    off = np.zeros(lengths.size + 1, np.int64)
    np.cumsum(lengths, out=off[1:])
    return off


def parse(const uint8_t[::1] buf, const int64_t[:, ::1] spans, const uint8_t[::1] first,
          int n_threads):
    """Parse the segmentation values ``buf[spans[r, 0]:spans[r, 1]]`` (first bytes ``first``).

    Rows run on ``n_threads`` OpenMP threads. Returns None when some row is not a
    polygon list or an RLE this parser takes; else a dict of arrays: ``kind`` int8 (n,),
    ``xy`` float64 (coordinates; NaN for a token left to Python's float), ``x_off``
    (n + 1,) per-row coordinate offsets, ``poly_off`` (P + 1,), ``ann_off`` (n + 1,),
    ``cnts`` uint32 and ``cnt_off`` (n + 1,), ``height``, ``width``, ``total`` int64 (n,),
    ``rle_area`` int64 (n,) and ``rle_bbox`` float64 (n, 4) where ``rle_geom`` (n,) is 1.

    >>> out = parse(b'[[0, 0, 2, 0, 2, 2]]', np.array([[0, 20]]), np.array([91], np.uint8), 1)
    >>> out["kind"].tolist(), out["xy"].tolist(), out["poly_off"].tolist()
    ([0], [0.0, 0.0, 2.0, 0.0, 2.0, 2.0], [0, 6])
    """
    cdef Py_ssize_t n = spans.shape[0]
    cdef Py_ssize_t r
    cdef const uint8_t* p = &buf[0]
    cdef int64_t[:, ::1] sizes_v
    cdef Row row
    cdef Dest nowhere  # the sizing pass writes nothing (read-only, shared by the threads)
    if first.shape[0] != n:
        raise ValueError(f"parse: {n} spans but {first.shape[0]} first bytes")
    for r in range(n):
        if spans[r, 0] >= 0 and not (spans[r, 0] < spans[r, 1] <= buf.shape[0]):
            raise ValueError(f"parse: span {r} {list(spans[r])} is not inside buf")
    # Pass 1: sizes (status, coordinates, polygons, counts) per row.
    sizes = np.zeros((n, 4), np.int64)
    sizes_v = sizes
    nowhere.xy = NULL
    nowhere.poly_off = NULL
    nowhere.cnts = NULL
    nowhere.x0 = 0
    for r in prange(n, nogil=True, num_threads=n_threads, schedule="guided"):
        row = _row(p, spans[r, 0], spans[r, 1], first[r], False, &nowhere)
        sizes_v[r, 0] = row.status
        sizes_v[r, 1] = row.n_xy
        sizes_v[r, 2] = row.n_poly
        sizes_v[r, 3] = row.n_cnt
    if sizes[:, 0].any():
        return None
    x_off, ann_off, cnt_off = _offsets(sizes[:, 1]), _offsets(sizes[:, 2]), _offsets(sizes[:, 3])
    # (no negative indices here: the module is compiled with wraparound=False)
    xy = np.empty(int(x_off[n]), np.float64)
    poly_off = np.empty(int(ann_off[n]) + 1, np.int64)
    poly_off[int(ann_off[n])] = xy.size
    cnts = np.empty(int(cnt_off[n]), np.uint32)
    kind = np.empty(n, np.int8)
    hh = np.zeros(n, np.int64)
    ww = np.zeros(n, np.int64)
    total = np.zeros(n, np.int64)
    status = np.zeros(n, np.int64)
    rle_area = np.zeros(n, np.int64)
    rle_bbox = np.zeros((n, 4), np.float64)
    rle_geom = np.zeros(n, np.uint8)
    cdef const int64_t[::1] x_off_v = x_off, ann_off_v = ann_off, cnt_off_v = cnt_off
    # Pass 2: the values. Each row writes its own slices of xy, poly_off and cnts.
    cdef double[::1] xy_v = xy
    cdef int64_t[::1] poly_off_v = poly_off
    cdef uint32_t[::1] cnts_v = cnts
    cdef int8_t[::1] kind_v = kind
    cdef int64_t[::1] hh_v = hh, ww_v = ww, total_v = total, status_v = status
    cdef int64_t[::1] area_v = rle_area
    cdef double[:, ::1] bbox_v = rle_bbox
    cdef uint8_t[::1] geom_v = rle_geom
    cdef double* xy0 = &xy_v[0]
    cdef int64_t* poly0 = &poly_off_v[0]
    cdef uint32_t* cnts0 = &cnts_v[0]
    for r in prange(n, nogil=True, num_threads=n_threads, schedule="guided"):
        row = _write_row(p, spans[r, 0], spans[r, 1], first[r], xy0 + x_off_v[r], x_off_v[r],
                         poly0 + ann_off_v[r], cnts0 + cnt_off_v[r])
        status_v[r] = row.status
        total_v[r] = row.total
        kind_v[r] = <int8_t>row.kind
        hh_v[r] = row.h
        ww_v[r] = row.w
        if _is_full_rle(&row):
            area_v[r] = rle_area_one(cnts0, cnt_off_v[r], cnt_off_v[r + 1])
            rle_bbox_one(cnts0, cnt_off_v[r], cnt_off_v[r + 1], row.h, row.w, &bbox_v[r, 0])
            geom_v[r] = 1
    if status.any():
        return None
    return {
        "kind": kind, "xy": xy, "x_off": x_off, "poly_off": poly_off, "ann_off": ann_off,
        "cnts": cnts, "cnt_off": cnt_off, "height": hh, "width": ww, "total": total,
        "rle_area": rle_area, "rle_bbox": rle_bbox, "rle_geom": rle_geom,
    }


def token_bounds(const uint8_t[::1] buf, int64_t s, int64_t e, int64_t k):
    """Byte range ``(start, end)`` of the k-th number in the span buf[s:e] (a polygon
    list), or (-1, -1).

    >>> token_bounds(b'[[1, 22, -3.5]]', 0, 15, 2)
    (9, 13)
    """
    cdef const uint8_t* p = &buf[0]
    cdef int64_t i = s, m = 0, j
    cdef uint8_t c
    if not (0 <= s <= e <= buf.shape[0]):
        raise ValueError(f"token_bounds: [{s}, {e}) is not inside buf")
    while i < e:
        c = p[i]
        if c == 45 or (c >= 48 and c <= 57):
            j = skip_number(p, i, e)
            if j < 0:
                return -1, -1
            if m == k:
                return i, j
            m += 1
            i = j
        else:
            i += 1
    return -1, -1
