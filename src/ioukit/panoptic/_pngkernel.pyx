"""PNG pixel data without Pillow: zlib inflate (RFC 1950/1951) and PNG row unfiltering.

Panoptic PNGs are flat colour regions that compress ~100:1, so decoding is almost all
long back-reference copies. zlib's inflate copies those byte by byte (~0.4 ms for a
256 x 256 image, more than all of panopticapi's other per-image work); here a copy that
does not overlap its source (the row above, in a PNG) is one memcpy, an overlapping one
of distance >= 8 moves 8 bytes at a time, and distance 1 is a memset. Huffman codes are
read with a 10-bit lookup table and, for longer codes, canonical decoding as in Mark
Adler's puff.c (zlib/contrib/puff). Both functions release the GIL; any malformed
input returns a negative code and the caller falls back to Pillow, which reports it.
"""

from libc.stdint cimport int32_t, uint8_t, uint16_t, uint32_t, uint64_t
from libc.stdio cimport FILE, SEEK_END, SEEK_SET, fclose, fopen, fread, fseek, ftell
from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove, memset

import numpy as np

cdef enum:
    MAXBITS = 15
    FAST_BITS = 10
    MAXLCODES = 286
    MAXDCODES = 30
    FIXLCODES = 288

cdef struct Huffman:
    uint16_t count[MAXBITS + 1]     # codes of each length
    uint16_t symbol[FIXLCODES]      # symbols in canonical order
    int32_t fast[1 << FAST_BITS]    # (symbol << 4) | length for codes <= FAST_BITS, else -1

cdef struct Stream:
    const uint8_t* src
    Py_ssize_t srclen
    Py_ssize_t pos
    uint64_t bitbuf
    int bitcnt
    uint8_t* dst
    Py_ssize_t dstlen
    Py_ssize_t out
    bint error

# RFC 1951 3.2.5: base lengths / extra bits of length codes 257..285, distances 0..29
cdef uint16_t LBASE[29]
cdef uint16_t LEXT[29]
cdef uint16_t DBASE[30]
cdef uint16_t DEXT[30]
LBASE[:] = [3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 15, 17, 19, 23, 27, 31, 35, 43, 51, 59, 67,
            83, 99, 115, 131, 163, 195, 227, 258]
LEXT[:] = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5,
           5, 0]
DBASE[:] = [1, 2, 3, 4, 5, 7, 9, 13, 17, 25, 33, 49, 65, 97, 129, 193, 257, 385, 513, 769,
            1025, 1537, 2049, 3073, 4097, 6145, 8193, 12289, 16385, 24577]
DEXT[:] = [0, 0, 0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11,
           12, 12, 13, 13]
# order of code-length code lengths (RFC 1951 3.2.7)
cdef uint8_t CLORDER[19]
CLORDER[:] = [16, 17, 18, 0, 8, 7, 9, 6, 10, 5, 11, 4, 12, 3, 13, 2, 14, 1, 15]


cdef inline bint _need(Stream* s, int n) noexcept nogil:
    # at least n (<= 32) bits in the buffer; past the input's end, error
    while s.bitcnt < n:
        if s.pos >= s.srclen:
            s.error = True
            return False
        s.bitbuf |= (<uint64_t>s.src[s.pos]) << s.bitcnt
        s.pos += 1
        s.bitcnt += 8
    return True


cdef inline int _bits(Stream* s, int n) noexcept nogil:
    cdef int v
    if n == 0:
        return 0
    if not _need(s, n):
        return 0
    v = <int>(s.bitbuf & ((<uint64_t>1 << n) - 1))
    s.bitbuf >>= n
    s.bitcnt -= n
    return v


cdef int _construct(Huffman* h, const uint8_t* length, int n) noexcept nogil:
    # puff.c construct(): canonical code tables; returns < 0 if over-subscribed.
    # Also the FAST_BITS table, indexed by the code's bits as they arrive (reversed).
    cdef int sym, ln, left, code, rev, k, step
    cdef uint16_t offs[MAXBITS + 1]
    cdef int next_code[MAXBITS + 1]
    for ln in range(MAXBITS + 1):
        h.count[ln] = 0
    for sym in range(n):
        h.count[length[sym]] += 1
    if h.count[0] == n:
        for k in range(1 << FAST_BITS):
            h.fast[k] = -1
        return 0
    left = 1
    for ln in range(1, MAXBITS + 1):
        left <<= 1
        left -= h.count[ln]
        if left < 0:
            return left
    offs[1] = 0
    for ln in range(1, MAXBITS):
        offs[ln + 1] = offs[ln] + h.count[ln]
    for sym in range(n):
        if length[sym] != 0:
            h.symbol[offs[length[sym]]] = <uint16_t>sym
            offs[length[sym]] += 1
    for k in range(1 << FAST_BITS):
        h.fast[k] = -1
    # RFC 1951 3.2.2: the first code of each length
    code = 0
    next_code[0] = 0
    for ln in range(1, MAXBITS + 1):
        code = (code + (h.count[ln - 1] if ln > 1 else 0)) << 1
        next_code[ln] = code
    for sym in range(n):
        ln = length[sym]
        if ln == 0 or ln > FAST_BITS:
            if ln:
                next_code[ln] += 1
            continue
        code = next_code[ln]
        next_code[ln] += 1
        rev = 0
        for k in range(ln):
            rev = (rev << 1) | ((code >> k) & 1)
        step = 1 << ln
        k = rev
        while k < (1 << FAST_BITS):
            h.fast[k] = (sym << 4) | ln
            k += step
    return left


cdef inline int _decode(Stream* s, const Huffman* h) noexcept nogil:
    # one symbol; -1 on error
    cdef int e, code, first, index, count, ln
    while s.bitcnt <= 48 and s.pos < s.srclen:  # refill without failing at the end
        s.bitbuf |= (<uint64_t>s.src[s.pos]) << s.bitcnt
        s.pos += 1
        s.bitcnt += 8
    if s.bitcnt >= FAST_BITS:
        e = h.fast[s.bitbuf & ((1 << FAST_BITS) - 1)]
        if e >= 0:
            s.bitbuf >>= (e & 15)
            s.bitcnt -= (e & 15)
            return e >> 4
    # puff.c decode(): canonical, one bit at a time
    code = first = index = 0
    for ln in range(1, MAXBITS + 1):
        code |= _bits(s, 1)
        if s.error:
            return -1
        count = h.count[ln]
        if code - count < first:
            return h.symbol[index + (code - first)]
        index += count
        first += count
        first <<= 1
        code <<= 1
    return -1


cdef int _codes(Stream* s, const Huffman* lencode, const Huffman* distcode) noexcept nogil:
    cdef int sym, ln, d
    cdef Py_ssize_t dist, k
    cdef uint8_t* o
    while True:
        sym = _decode(s, lencode)
        if sym < 0:
            return -10
        if sym < 256:
            if s.out >= s.dstlen:
                return -11
            s.dst[s.out] = <uint8_t>sym
            s.out += 1
        elif sym == 256:
            return 0
        else:
            sym -= 257
            if sym >= 29:
                return -12
            ln = LBASE[sym] + _bits(s, LEXT[sym])
            d = _decode(s, distcode)
            if d < 0 or d >= 30:
                return -13
            dist = DBASE[d] + _bits(s, DEXT[d])
            if s.error:
                return -14
            if dist > s.out:
                return -15
            if s.out + ln > s.dstlen:
                return -16
            o = s.dst + s.out
            if dist == 1:
                memset(o, (o - 1)[0], ln)
            elif dist >= ln:  # no overlap (a row above, in a PNG): libc's memcpy
                memcpy(o, o - dist, ln)
            elif dist >= 8:
                k = 0
                while k + 8 <= ln:
                    memcpy(o + k, o + k - dist, 8)
                    k += 8
                while k < ln:
                    o[k] = o[k - dist]
                    k += 1
            else:
                for k in range(ln):
                    o[k] = o[k - dist]
            s.out += ln


cdef int _dynamic(Stream* s, Huffman* lencode, Huffman* distcode) noexcept nogil:
    # puff.c dynamic()
    cdef uint8_t lengths[MAXLCODES + MAXDCODES]
    cdef int nlen, ndist, ncode, index, sym, ln, rep
    nlen = _bits(s, 5) + 257
    ndist = _bits(s, 5) + 1
    ncode = _bits(s, 4) + 4
    if s.error or nlen > MAXLCODES or ndist > MAXDCODES:
        return -3
    for index in range(19):
        lengths[index] = 0
    for index in range(ncode):
        lengths[CLORDER[index]] = <uint8_t>_bits(s, 3)
    if s.error or _construct(lencode, lengths, 19) != 0:
        return -4
    index = 0
    while index < nlen + ndist:
        sym = _decode(s, lencode)
        if sym < 0:
            return -5
        if sym < 16:
            lengths[index] = <uint8_t>sym
            index += 1
        else:
            ln = 0
            if sym == 16:
                if index == 0:
                    return -6
                ln = lengths[index - 1]
                rep = 3 + _bits(s, 2)
            elif sym == 17:
                rep = 3 + _bits(s, 3)
            else:
                rep = 11 + _bits(s, 7)
            if index + rep > nlen + ndist or s.error:
                return -7
            while rep > 0:
                lengths[index] = <uint8_t>ln
                index += 1
                rep -= 1
    if lengths[256] == 0:
        return -8
    # incomplete codes are allowed only for a single length-1 code (puff.c)
    ln = _construct(lencode, lengths, nlen)
    if ln < 0 or (ln > 0 and nlen - lencode.count[0] != 1):
        return -9
    ln = _construct(distcode, lengths + nlen, ndist)
    if ln < 0 or (ln > 0 and ndist - distcode.count[0] != 1):
        return -9
    return _codes(s, lencode, distcode)


cdef int _fixed(Stream* s, Huffman* lencode, Huffman* distcode) noexcept nogil:
    cdef uint8_t lengths[FIXLCODES]
    cdef int k
    for k in range(FIXLCODES):
        lengths[k] = 8 if k < 144 else (9 if k < 256 else (7 if k < 280 else 8))
    _construct(lencode, lengths, FIXLCODES)
    for k in range(MAXDCODES):
        lengths[k] = 5
    _construct(distcode, lengths, MAXDCODES)
    return _codes(s, lencode, distcode)


cdef int _stored(Stream* s) noexcept nogil:
    cdef Py_ssize_t ln
    s.bitbuf = 0  # discard the bits left in the current byte
    s.pos -= s.bitcnt // 8  # whole bytes read ahead go back
    s.bitcnt = 0
    if s.pos + 4 > s.srclen:
        return -2
    ln = s.src[s.pos] | (<Py_ssize_t>s.src[s.pos + 1] << 8)
    if (ln ^ 0xffff) != (s.src[s.pos + 2] | (<Py_ssize_t>s.src[s.pos + 3] << 8)):
        return -2
    s.pos += 4
    if s.pos + ln > s.srclen or s.out + ln > s.dstlen:
        return -2
    memcpy(s.dst + s.out, s.src + s.pos, ln)
    s.pos += ln
    s.out += ln
    return 0


cdef Py_ssize_t inflate_zlib(const uint8_t* src, Py_ssize_t srclen, uint8_t* dst,
                             Py_ssize_t dstlen) noexcept nogil:
    # bytes written, or < 0 if malformed / longer than dstlen
    cdef Stream s
    cdef Huffman lencode, distcode
    cdef int last, kind, err = 0
    if srclen < 2:
        return -1
    # RFC 1950 header: deflate, no preset dictionary, check bits
    if (src[0] & 15) != 8 or ((<int>src[0]) * 256 + src[1]) % 31 != 0 or (src[1] & 32):
        return -1
    s.src = src
    s.srclen = srclen
    s.pos = 2
    s.bitbuf = 0
    s.bitcnt = 0
    s.dst = dst
    s.dstlen = dstlen
    s.out = 0
    s.error = False
    while True:
        last = _bits(&s, 1)
        kind = _bits(&s, 2)
        if s.error:
            return -1
        if kind == 0:
            err = _stored(&s)
        elif kind == 1:
            err = _fixed(&s, &lencode, &distcode)
        elif kind == 2:
            err = _dynamic(&s, &lencode, &distcode)
        else:
            err = -1
        if err < 0:
            return err
        if last:
            return s.out


def zlib_inflate(const uint8_t[::1] src, uint8_t[::1] dst) -> int:
    """Inflate a zlib stream into ``dst``; bytes written, or < 0 if malformed / too long.

    >>> import zlib, numpy as np
    >>> data = bytes(range(50)) * 40
    >>> out = np.empty(len(data), np.uint8)
    >>> zlib_inflate(zlib.compress(data), out) == len(data) and out.tobytes() == data
    True
    """
    cdef Py_ssize_t n
    if src.shape[0] == 0:
        return -1
    with nogil:
        n = inflate_zlib(&src[0], src.shape[0], &dst[0] if dst.shape[0] else NULL,
                         dst.shape[0])
    return n


cdef void _unfilter_row(uint8_t* row, const uint8_t* prev, int f, Py_ssize_t n,
                        Py_ssize_t bpp) noexcept nogil:
    # PNG spec 9.2-9.4; Paeth written as libpng's png_read_filter_row_paeth (same choice,
    # ties included: a, then b, then c), without branches on the row position
    cdef Py_ssize_t x
    cdef int a, b, c, p, pa, pb, pc
    if f == 1:
        for x in range(bpp, n):
            row[x] = <uint8_t>(row[x] + row[x - bpp])
    elif f == 2:
        for x in range(n):
            row[x] = <uint8_t>(row[x] + prev[x])
    elif f == 3:
        for x in range(bpp):
            row[x] = <uint8_t>(row[x] + (prev[x] >> 1))
        for x in range(bpp, n):
            row[x] = <uint8_t>(row[x] + ((<int>row[x - bpp] + <int>prev[x]) >> 1))
    elif f == 4:
        for x in range(bpp):
            row[x] = <uint8_t>(row[x] + prev[x])
        for x in range(bpp, n):
            a = row[x - bpp]
            b = prev[x]
            c = prev[x - bpp]
            p = b - c
            pc = a - c
            pa = p if p >= 0 else -p
            pb = pc if pc >= 0 else -pc
            pc = p + pc
            pc = pc if pc >= 0 else -pc
            if pb < pa:
                pa = pb
                a = b
            if pc < pa:
                a = c
            row[x] = <uint8_t>(row[x] + a)


cdef inline bint _all_zero(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    cdef uint8_t acc = 0
    cdef Py_ssize_t x
    for x in range(n):  # no early exit: the OR reduction vectorises
        acc |= p[x]
    return acc == 0


cdef int unfilter_rows(uint8_t* data, Py_ssize_t height, Py_ssize_t row_bytes,
                       Py_ssize_t bpp, uint8_t* zero_row, uint8_t* same) noexcept nogil:
    # rows of 1 + row_bytes, filter byte first; zero_row: row_bytes zeros (row -1).
    # same: NULL, or one flag per row set where the row equals the row above (an Up row
    # without residual, most rows of a panoptic PNG); such a row is left unwritten (its
    # pixels are those of the last row not flagged) and the reader skips it.
    cdef Py_ssize_t y, stride = row_bytes + 1
    cdef uint8_t* row
    cdef const uint8_t* prev = zero_row
    cdef int f
    for y in range(height):
        row = data + y * stride + 1
        f = (row - 1)[0]
        if f > 4:
            return -1
        if same != NULL:
            same[y] = f == 2 and y > 0 and _all_zero(row, row_bytes)
            if same[y]:
                continue
        if f:
            _unfilter_row(row, prev, f, row_bytes, bpp)
        prev = row
    return 0


def unfilter(uint8_t[::1] data, Py_ssize_t height, Py_ssize_t row_bytes, int bpp) -> int:
    """Undo PNG row filters in place: rows of ``1 + row_bytes`` (filter byte first).

    Returns 0, or -1 on an unknown filter type (PNG spec 9.2: None, Sub, Up, Average,
    Paeth).

    >>> import numpy as np
    >>> rows = np.array([1, 5, 1, 1, 2, 0, 1, 1], np.uint8)  # Sub then Up, 1 byte/pixel
    >>> unfilter(rows, 2, 3, 1), rows.tolist()
    (0, [1, 5, 6, 7, 2, 5, 7, 8])
    """
    cdef int err
    if data.shape[0] < height * (row_bytes + 1) or bpp < 1 or height < 1:
        return -1
    zeros = bytearray(row_bytes + 1)
    cdef uint8_t[::1] z = zeros
    with nogil:
        err = unfilter_rows(&data[0], height, row_bytes, bpp, &z[0], NULL)
    return err


# ---------------------------------------------------------------- PNG files
cdef uint32_t CRC_TABLE[256]


cdef void _crc_init() noexcept:
    # PNG spec annex D: CRC-32, polynomial 0xedb88320
    cdef uint32_t c
    cdef int n, k
    for n in range(256):
        c = n
        for k in range(8):
            c = ((<uint32_t>0xedb88320) ^ (c >> 1)) if (c & 1) else (c >> 1)
        CRC_TABLE[n] = c


_crc_init()


cdef inline uint32_t _crc(const uint8_t* p, Py_ssize_t n) noexcept nogil:
    cdef uint32_t c = ~(<uint32_t>0)
    cdef Py_ssize_t k
    for k in range(n):
        c = CRC_TABLE[(c ^ p[k]) & 0xff] ^ (c >> 8)
    return ~c


cdef inline uint32_t _be32(const uint8_t* p) noexcept nogil:
    return (<uint32_t>p[0] << 24) | (<uint32_t>p[1] << 16) | (<uint32_t>p[2] << 8) | p[3]


cdef int read_file(const char* path, Buffer* buf) noexcept nogil:
    # the whole file into buf (grown as needed); buf.size = its length; < 0 on failure
    cdef FILE* f = fopen(path, "rb")
    cdef long n
    if f == NULL:
        return -1
    if fseek(f, 0, SEEK_END) != 0:
        fclose(f)
        return -1
    n = ftell(f)
    if n < 0 or fseek(f, 0, SEEK_SET) != 0 or grow(buf, n + 1) < 0:
        fclose(f)
        return -1
    buf.size = <Py_ssize_t>fread(buf.data, 1, n, f)
    fclose(f)
    return 0 if buf.size == n else -1


cdef int grow(Buffer* buf, Py_ssize_t n) noexcept nogil:
    cdef uint8_t* p
    if n <= buf.capacity:
        return 0
    p = <uint8_t*>realloc(buf.data, n)
    if p == NULL:
        return -1
    buf.data = p
    buf.capacity = n
    return 0


cdef int decode_png(Buffer* raw, Buffer* pixels, Buffer* zero_row, Buffer* same,
                    Png* info) noexcept nogil:
    # An 8-bit RGB/RGBA non-interlaced PNG's unfiltered rows into pixels (row y, pixel x
    # at 1 + y * stride + x * channels); < 0 for any other PNG or a malformed one.
    # same: NULL (every row written), or per-row flags as in unfilter_rows.
    # raw is modified: the IDAT chunks' data is moved together in place.
    cdef uint8_t* p = raw.data
    cdef Py_ssize_t n = raw.size, pos = 8, length, idat = 0, size, w, h
    cdef bint header = False, done = False
    cdef int c = 0
    if n < 8 or p[0] != 0x89 or memcmp(p + 1, b"PNG\r\n\x1a\n", 7) != 0:
        return -1
    while pos + 12 <= n and not done:
        length = _be32(p + pos)
        if length > n - pos - 12 or _crc(p + pos + 4, length + 4) != _be32(p + pos + 8 + length):
            return -2
        if memcmp(p + pos + 4, b"IHDR", 4) == 0:
            if length != 13 or header:
                return -3
            header = True
            w = _be32(p + pos + 8)
            h = _be32(p + pos + 12)
            c = 3 if p[pos + 17] == 2 else (4 if p[pos + 17] == 6 else 0)
            if (p[pos + 16] != 8 or c == 0 or p[pos + 18] or p[pos + 19] or p[pos + 20]
                    or w < 1 or h < 1 or w > (1 << 24) or h > (1 << 24)):
                return -4
        elif memcmp(p + pos + 4, b"IDAT", 4) == 0:
            memmove(p + idat, p + pos + 8, length)  # idat <= pos + 8: moves data back
            idat += length
        elif memcmp(p + pos + 4, b"IEND", 4) == 0:
            done = True
        elif p[pos + 4] < 97 and memcmp(p + pos + 4, b"PLTE", 4) != 0:
            return -5  # an unknown critical chunk
        pos += 12 + length
    if not header or idat == 0:
        return -6
    info.width = w
    info.height = h
    info.channels = c
    info.stride = 1 + w * c
    size = h * info.stride
    if grow(pixels, size) < 0 or grow(zero_row, info.stride) < 0:
        return -7
    if same != NULL and grow(same, h) < 0:
        return -7
    if inflate_zlib(p, idat, pixels.data, size) != size:
        return -8
    memset(zero_row.data, 0, info.stride)
    if unfilter_rows(pixels.data, h, w * c, c, zero_row.data,
                     same.data if same != NULL else NULL) < 0:
        return -9
    return 0


def decode_png_bytes(raw, scratch):
    """``(pixels, stride, channels, height, width)`` of an 8-bit RGB/RGBA PNG, or None.

    ``scratch``: a one-array list whose uint8 array is reused for the pixels (replaced
    when too small). Row y's pixels start at ``1 + y * stride``.

    >>> import io, numpy as np
    >>> from PIL import Image
    >>> b = io.BytesIO(); Image.fromarray(np.full((2, 3, 3), 7, np.uint8)).save(b, "PNG")
    >>> px, stride, c, h, w = decode_png_bytes(b.getvalue(), [np.empty(0, np.uint8)])
    >>> (stride, c, h, w), px.reshape(h, stride)[:, 1:].tolist()
    ((10, 3, 2, 3), [[7, 7, 7, 7, 7, 7, 7, 7, 7], [7, 7, 7, 7, 7, 7, 7, 7, 7]])
    """
    cdef Buffer r, px, z
    cdef Png info
    cdef int err
    cdef bytearray copy = bytearray(raw)  # decode_png moves the IDAT data in place
    cdef uint8_t[::1] rv = copy
    r.data = &rv[0] if rv.shape[0] else NULL
    r.size = r.capacity = rv.shape[0]
    px.data = NULL
    px.size = px.capacity = 0
    z.data = NULL
    z.size = z.capacity = 0
    if r.size == 0:
        return None
    with nogil:
        err = decode_png(&r, &px, &z, NULL, &info)
    free(z.data)
    if err < 0:
        free(px.data)
        return None
    size = info.height * info.stride
    out = scratch[0]
    if out.size < size:
        out = scratch[0] = np.empty(size, np.uint8)
    cdef uint8_t[::1] ov = out
    memcpy(&ov[0], px.data, size)
    free(px.data)
    return out[:size], info.stride, info.channels, info.height, info.width
