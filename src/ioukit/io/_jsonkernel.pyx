# cython: language_level=3
"""Compiled kernel behind :mod:`ioukit.io._jsonscan`: a validating JSON byte scanner.

The scanner walks the UTF-8 bytes of a JSON document once and writes the fields
of the selected record lists straight into NumPy columns. It validates the
whole document against the JSON grammar (RFC 8259) as Python's ``json`` module
applies it, and gives up (a non-zero status) on anything it does not handle, so
the caller can fall back to ``json`` and get the same answer or the same error.

Numbers are converted with correct rounding by the helpers in ``_jsonkernel.pxd``
(Clinger's fast path, Eisel-Lemire with Go strconv's 128-bit table; see there);
tokens they cannot decide are listed in a "slow" table and converted afterwards by
Python's ``float`` on the token bytes, which is what ``json`` does.

The scan runs without the GIL. It is a small state machine (``Scan.phase``) so that
it can stop at the start of a record when the column arrays or the slow table are
full, let :func:`scan` grow them (NumPy, with the GIL), and go on where it stopped.
"""

from libc.math cimport NAN
from libc.stdint cimport int64_t, uint8_t
from libc.string cimport memcmp

import numpy as np

# Status codes returned by the kernel (0 = success). Messages live in _jsonscan.
OK = ST_OK
E_SYNTAX = ST_SYNTAX
E_TYPE = ST_TYPE
E_INTFLOAT = ST_INTFLOAT
E_INTRANGE = ST_INTRANGE
E_NONFINITE = ST_NONFINITE
E_KEYESCAPE = ST_KEYESCAPE
E_DEPTH = ST_DEPTH
E_NOTLIST = ST_NOTLIST
E_NOTOBJ = ST_NOTOBJ
E_NULL = ST_NULL
E_UTF8 = ST_UTF8
E_EXTRA = ST_EXTRA
E_SPLIT = ST_SPLIT

cdef enum:
    # internal: the column arrays / the slow-number table are full; grow, then resume
    NEED_ROWS = 98
    NEED_SLOW = 99
    # containers nested in a skipped value: a bit per level ({ or [), 128 KiB per scan
    MAX_DEPTH = 1048576
    DEPTH_BYTES = 131072  # MAX_DEPTH / 8
    SLOW_ROWS = 64  # first size of the slow-number table

# Field kinds (mirrors _jsonscan.KINDS). FK_FLOATS: a list of numbers of the field's
# width (fwidth), e.g. a COCO bbox (4).
cdef enum:
    FK_INT = 0
    FK_FLOAT = 1
    FK_FLOATS = 2
    FK_STR = 3
    FK_SPAN = 4
    FK_FLAG = 5

K_INT = FK_INT
K_FLOAT = FK_FLOAT
K_FLOATS = FK_FLOATS
K_FLOAT4 = FK_FLOATS  # the width-4 case, by its former name
K_STR = FK_STR
K_SPAN = FK_SPAN
K_FLAG = FK_FLAG
_MAX_DEPTH = MAX_DEPTH

# Scan.phase: where the state machine stands.
cdef enum:
    PH_START = 0  # nothing read yet
    PH_MEMBER = 1  # at the next member of the root object (or at the root list)
    PH_LIST = 2  # inside record list t, at the start of record `row`
    PH_END = 3  # the root value is closed


# The requested tables and fields (the arrays of _jsonscan._layout, read only).
cdef struct Layout:
    const uint8_t* tkeys  # table t's key: tkeys[tkey_off[t]:tkey_off[t + 1]]
    const int64_t* tkey_off
    const int64_t* tfield_off  # table t's fields: tfield_off[t] .. tfield_off[t + 1]
    const uint8_t* fkeys  # field f's key: fkeys[fkey_off[f]:fkey_off[f + 1]]
    const int64_t* fkey_off
    const int64_t* fkind  # FK_*
    const int64_t* fcol  # first column of field f in its kind's array
    const int64_t* fwidth  # FK_FLOATS: the list's width (columns fcol[f] .. + fwidth[f])
    const int64_t* flen  # FK_FLOATS: field f's column in the list-length array
    Py_ssize_t n_tables


# The output columns: C-contiguous (rows x width) arrays owned by scan().
cdef struct Columns:
    int64_t* ints  # int and flag fields
    double* floats  # float and float-list fields, then one scratch column (items past
                    # a list's width)
    int64_t* spans  # str and span fields: start, end, flags or first byte
    uint8_t* present  # one per field
    int64_t* f4len  # one per float-list field: the list's length
    Py_ssize_t w_int, w_float, w_span, w_present, w_f4
    Py_ssize_t rows  # rows allocated
    int64_t* slow  # (slow_rows, 5): table, row, column (-1: cancelled), token start, end
    Py_ssize_t slow_rows
    Py_ssize_t n_slow


# The scan's position and results so far (one per scan() call: threads share nothing).
cdef struct Scan:
    const uint8_t* buf
    Py_ssize_t n
    bint root_is_list
    bint part  # records from buf[start] of a root list, not a whole document
    Py_ssize_t stop  # a part's split point; -1 for a whole document or the last part
    int phase
    Py_ssize_t i
    int64_t t  # the record list being read (PH_LIST)
    Py_ssize_t row  # its records read so far
    int64_t* counts  # per table
    uint8_t* found  # per table
    uint8_t stack[DEPTH_BYTES]  # bit d: level d is an object


cdef inline Py_ssize_t _skip_scalar(const uint8_t* buf, Py_ssize_t i,
                                    Py_ssize_t n) noexcept nogil:
    # a string, number or literal at buf[i]: the index after it, or -status
    cdef uint8_t c = buf[i]
    cdef Py_ssize_t j
    cdef int flags
    if c == 34:
        j, flags = skip_string(buf, i, n)
        return j
    if c == 45 or is_digit(c):
        return skip_number(buf, i, n)
    if c == 73:  # Infinity
        return -ST_NONFINITE
    j, flags = literal(buf, i, n)
    return j


cdef Py_ssize_t _skip_value(const uint8_t* buf, Py_ssize_t i, Py_ssize_t n,
                            uint8_t* stack) noexcept nogil:
    """Validate and skip any JSON value starting at the first non-blank byte from i.

    Iterative (explicit container stack) so deep nesting cannot overflow the C stack.
    Returns the index just after the value, or -status.
    """
    cdef int depth = 0
    cdef uint8_t c, close, top
    cdef Py_ssize_t j
    cdef int flags
    while True:
        i = skip_ws(buf, i, n)
        if i >= n:
            return -ST_SYNTAX
        c = buf[i]
        if c == 123 or c == 91:
            j = skip_ws(buf, i + 1, n)
            close = 125 if c == 123 else 93
            if j < n and buf[j] == close:
                i = j + 1
            else:
                if depth >= MAX_DEPTH:
                    return -ST_DEPTH
                if c == 123:
                    stack[depth >> 3] |= <uint8_t>(1 << (depth & 7))
                else:
                    stack[depth >> 3] &= <uint8_t>~(1 << (depth & 7))
                depth += 1
                i = j
                if c == 123:
                    if i >= n or buf[i] != 34:
                        return -ST_SYNTAX
                    i, flags = skip_string(buf, i, n)
                    if i < 0:
                        return i
                    i = skip_ws(buf, i, n)
                    if i >= n or buf[i] != 58:
                        return -ST_SYNTAX
                    i += 1
                continue
        else:
            i = _skip_scalar(buf, i, n)
            if i < 0:
                return i
        # A value just ended at i: close containers or move to the next element.
        while True:
            if depth == 0:
                return i
            i = skip_ws(buf, i, n)
            if i >= n:
                return -ST_SYNTAX
            c = buf[i]
            top = 123 if (stack[(depth - 1) >> 3] >> ((depth - 1) & 7)) & 1 else 91
            if c == 44:
                i += 1
                if top == 123:
                    i = skip_ws(buf, i, n)
                    if i >= n or buf[i] != 34:
                        return -ST_SYNTAX
                    i, flags = skip_string(buf, i, n)
                    if i < 0:
                        return i
                    i = skip_ws(buf, i, n)
                    if i >= n or buf[i] != 58:
                        return -ST_SYNTAX
                    i += 1
                break
            if (c == 93 and top == 91) or (c == 125 and top == 123):
                i += 1
                depth -= 1
                continue
            return -ST_SYNTAX


cdef inline void _invalidate_slow(Columns* cols, int64_t t, Py_ssize_t row, int64_t c0,
                                  int64_t c1) noexcept nogil:
    # Drop pending slow conversions of (table t, row, float columns [c0, c1)): a later
    # duplicate key replaces the value, as json keeps the last one. The entry keeps its
    # (table, row), so this backward walk over the record's entries goes on past it.
    cdef Py_ssize_t k = cols.n_slow - 1
    cdef int64_t* e
    while k >= 0:
        e = cols.slow + 5 * k
        if not (e[1] == row and e[0] == t):
            break
        if e[2] >= c0 and e[2] < c1:
            e[2] = -1
        k -= 1


cdef inline void _drop_slow_row(Columns* cols, int64_t t, Py_ssize_t row) noexcept nogil:
    # Forget the slow entries of (table t, row): that record is parsed again.
    cdef Py_ssize_t k, q, keep = 0
    cdef int64_t* e
    for k in range(cols.n_slow):
        e = cols.slow + 5 * k
        if not (e[0] == t and e[1] == row):
            for q in range(5):
                cols.slow[5 * keep + q] = e[q]
            keep += 1
    cols.n_slow = keep


cdef inline void _drop_slow_table(Columns* cols, int64_t t) noexcept nogil:
    # Forget the slow entries of table t (a repeated key replaces its list).
    cdef Py_ssize_t k, q, keep = 0
    cdef int64_t* e
    for k in range(cols.n_slow):
        e = cols.slow + 5 * k
        if e[0] != t:
            for q in range(5):
                cols.slow[5 * keep + q] = e[q]
            keep += 1
    cols.n_slow = keep


cdef inline Py_ssize_t _number_into(const uint8_t* buf, Py_ssize_t i, Py_ssize_t n,
                                    double* floats, int64_t col, Columns* cols, int64_t t,
                                    Py_ssize_t row) noexcept nogil:
    """Parse a number at buf[i] into floats[col] (this row's floats): end or -status.

    A token the compiled conversion cannot decide is listed in the slow table (its
    value NaN until Python's float() fills it in); -NEED_SLOW when that table is full.
    """
    cdef uint8_t c = buf[i]
    cdef Py_ssize_t j
    cdef int code
    cdef Decimal d
    cdef bint ok
    cdef double v
    cdef int64_t* e
    if not (c == 45 or is_digit(c)):
        if c == 110:
            j, code = literal(buf, i, n)
            return -ST_NULL if j > 0 else j
        if c == 73 or c == 78:
            return -ST_NONFINITE
        if c == 34 or c == 91 or c == 123 or c == 116 or c == 102:
            return -ST_TYPE
        return -ST_SYNTAX
    d = parse_number(buf, i, n)
    if d.end < 0:
        return d.end
    ok, v = to_double(&d)
    if ok:
        floats[col] = v
        return d.end
    if cols.n_slow >= cols.slow_rows:
        return -NEED_SLOW
    e = cols.slow + 5 * cols.n_slow
    e[0] = t
    e[1] = row
    e[2] = col
    e[3] = i
    e[4] = d.end
    floats[col] = NAN
    cols.n_slow += 1
    return d.end


cdef inline void _clear_row(const Layout* lay, Columns* cols, int64_t f0, int64_t f1,
                            Py_ssize_t row) noexcept nogil:
    # A record's fields before it is read: absent (0, NaN, spans -1, list length -1).
    cdef int64_t f, k, c, q
    cdef int64_t* ints = cols.ints + row * cols.w_int
    cdef double* floats = cols.floats + row * cols.w_float
    cdef int64_t* spans = cols.spans + row * cols.w_span
    for f in range(f0, f1):
        cols.present[row * cols.w_present + f] = 0
        k = lay.fkind[f]
        c = lay.fcol[f]
        if k == FK_INT or k == FK_FLAG:
            ints[c] = 0
        elif k == FK_FLOAT:
            floats[c] = NAN
        elif k == FK_FLOATS:
            for q in range(lay.fwidth[f]):
                floats[c + q] = NAN
            cols.f4len[row * cols.w_f4 + lay.flen[f]] = -1
        else:
            spans[c] = -1
            spans[c + 1] = -1
            spans[c + 2] = 0


cdef inline int64_t _find_key(const uint8_t* buf, Py_ssize_t ks, Py_ssize_t klen,
                              const uint8_t* keys, const int64_t* off, int64_t k0,
                              int64_t k1) noexcept nogil:
    # The first k in [k0, k1) whose key keys[off[k]:off[k + 1]] is buf[ks:ks + klen], or -1.
    cdef int64_t k
    for k in range(k0, k1):
        if off[k + 1] - off[k] == klen and memcmp(buf + ks, keys + off[k], klen) == 0:
            return k
    return -1


cdef Py_ssize_t _parse_record(const uint8_t* buf, Py_ssize_t i, Py_ssize_t n, int64_t t,
                              Py_ssize_t row, const Layout* lay, Columns* cols,
                              uint8_t* stack) noexcept nogil:
    """Parse one object (buf[i] == '{') into row `row` of table t's columns.

    Returns the index after the object, or -status (-NEED_SLOW: the slow table is full).
    Any other non-zero status only sends the caller to json, which finds the precise
    error itself, so type errors return at once without validating further.
    """
    cdef int64_t f0 = lay.tfield_off[t]
    cdef int64_t f1 = lay.tfield_off[t + 1]
    cdef int64_t* ints = cols.ints + row * cols.w_int
    cdef double* floats = cols.floats + row * cols.w_float
    cdef int64_t* spans = cols.spans + row * cols.w_span
    cdef uint8_t* present = cols.present + row * cols.w_present
    cdef int64_t* f4len = cols.f4len + row * cols.w_f4
    cdef Py_ssize_t ks, j
    cdef int64_t field, k, col, v, dst, q, w
    cdef int kflags, sflags, code
    cdef uint8_t c
    cdef bint islist, empty
    cdef int cnt
    _clear_row(lay, cols, f0, f1, row)
    i = skip_ws(buf, i + 1, n)
    if i < n and buf[i] == 125:
        return i + 1
    while True:
        if i >= n or buf[i] != 34:
            return -ST_SYNTAX
        ks = i + 1
        i, kflags = skip_string(buf, i, n)
        if i < 0:
            return i
        if kflags & 1:
            return -ST_KEYESCAPE
        field = _find_key(buf, ks, i - 1 - ks, lay.fkeys, lay.fkey_off, f0, f1)
        i = skip_ws(buf, i, n)
        if i >= n or buf[i] != 58:
            return -ST_SYNTAX
        i = skip_ws(buf, i + 1, n)
        if i >= n:
            return -ST_SYNTAX
        c = buf[i]
        k = lay.fkind[field] if field >= 0 else FK_SPAN
        if k == FK_SPAN:  # unknown keys and raw spans: one skip site
            j = _skip_value(buf, i, n, stack)
            if j < 0:
                return j
            if field >= 0:
                col = lay.fcol[field]
                spans[col] = i
                spans[col + 1] = j
                spans[col + 2] = c
                present[field] = 1
            i = j
        else:
            col = lay.fcol[field]
            if k == FK_INT or k == FK_FLAG:
                if c == 45 or is_digit(c):
                    i, v = parse_int(buf, i, n)
                    if i < 0:
                        return i
                    ints[col] = v
                elif k == FK_FLAG and (c == 116 or c == 102):
                    i, code = literal(buf, i, n)
                    if i < 0:
                        return i
                    ints[col] = code
                elif c == 110:
                    return -ST_NULL
                elif c == 73 or c == 78:
                    return -ST_NONFINITE
                else:
                    return -ST_TYPE
            elif k == FK_FLOAT or k == FK_FLOATS:
                # One shared number site for both kinds; a list fills w columns.
                islist = k == FK_FLOATS
                w = lay.fwidth[field] if islist else 1
                _invalidate_slow(cols, t, row, col, col + w)
                cnt = 0
                empty = False
                if islist:
                    if c != 91:
                        return -ST_NULL if c == 110 else -ST_TYPE
                    i = skip_ws(buf, i + 1, n)
                    if i < n and buf[i] == 93:
                        i += 1
                        empty = True
                while not empty:
                    if i >= n:
                        return -ST_SYNTAX
                    # Elements past the width are parsed (validated) into the scratch column.
                    dst = col + cnt if cnt < w else cols.w_float - 1
                    i = _number_into(buf, i, n, floats, dst, cols, t, row)
                    if i < 0:
                        return i
                    cnt += 1
                    if not islist:
                        break
                    i = skip_ws(buf, i, n)
                    if i >= n:
                        return -ST_SYNTAX
                    if buf[i] == 44:
                        i = skip_ws(buf, i + 1, n)
                        continue
                    if buf[i] == 93:
                        i += 1
                        break
                    return -ST_SYNTAX
                if islist:
                    f4len[lay.flen[field]] = cnt
                    if cnt != w:
                        _invalidate_slow(cols, t, row, col, col + w)
                        for q in range(w):
                            floats[col + q] = NAN
            else:  # FK_STR
                if c != 34:
                    return -ST_NULL if c == 110 else -ST_TYPE
                j, sflags = skip_string(buf, i, n)
                if j < 0:
                    return j
                spans[col] = i
                spans[col + 1] = j
                spans[col + 2] = sflags
                i = j
            present[field] = 1
        i = skip_ws(buf, i, n)
        if i >= n:
            return -ST_SYNTAX
        c = buf[i]
        if c == 44:
            i = skip_ws(buf, i + 1, n)
            continue
        if c == 125:
            return i + 1
        return -ST_SYNTAX


cdef int _scan_list(Scan* s, const Layout* lay, Columns* cols) noexcept nogil:
    """Read the records of list s.t from s.i into rows s.row, s.row + 1, ...

    At a list's start ``buf[s.i]`` is the first non-blank byte after its ``[`` (or, for
    a part, the ``{`` of its first record). With ``s.stop < 0`` the list is read to its
    ``]`` and s.i left just past it; with ``s.stop >= 0`` reading ends when the
    blank-skipped position after a record is exactly ``stop`` (a ``,`` between records),
    and any other ending (past ``stop``, or the list's end first) is ST_SPLIT.
    NEED_ROWS / NEED_SLOW leave s.i at the ``{`` of record s.row, to be read again.
    Other errors leave s.i at the start of the record at fault (or where the list broke).
    """
    cdef const uint8_t* buf = s.buf
    cdef Py_ssize_t n = s.n
    cdef Py_ssize_t i = s.i
    cdef Py_ssize_t row = s.row
    cdef Py_ssize_t stop = s.stop
    cdef Py_ssize_t j
    cdef int status
    if stop < 0 and i < n and buf[i] == 93:
        s.i = i + 1
        return ST_OK
    while True:
        s.i = i
        s.row = row
        if i >= n:
            return ST_SYNTAX
        if buf[i] != 123:
            return ST_NOTOBJ
        if row >= cols.rows:
            return NEED_ROWS
        j = _parse_record(buf, i, n, s.t, row, lay, cols, s.stack)
        if j == -NEED_SLOW:
            _drop_slow_row(cols, s.t, row)
            return NEED_SLOW
        if j < 0:
            return <int>-j
        row += 1
        s.row = row
        i = skip_ws(buf, j, n)
        s.i = i
        if stop >= 0 and i >= stop:
            return ST_OK if i == stop else ST_SPLIT
        if i >= n:
            return ST_SYNTAX
        if buf[i] == 44:
            i = skip_ws(buf, i + 1, n)
            continue
        if buf[i] == 93:
            if stop >= 0:  # the list ended before the split point
                return ST_SPLIT
            s.i = i + 1
            return ST_OK
        return ST_SYNTAX


cdef int _start(Scan* s) noexcept nogil:
    # The root: a part starts at its first record, a document at its first non-blank.
    cdef const uint8_t* buf = s.buf
    cdef Py_ssize_t n = s.n
    cdef Py_ssize_t i = s.i if s.part else skip_ws(buf, 0, n)
    s.i = i
    if i >= n:
        return ST_SYNTAX
    s.phase = PH_MEMBER
    if s.root_is_list:
        return ST_OK
    if buf[i] != 123:
        return ST_NOTOBJ
    i = skip_ws(buf, i + 1, n)
    s.i = i
    if i < n and buf[i] == 125:
        s.i = i + 1
        s.phase = PH_END
    return ST_OK


cdef int _next_member(Scan* s) noexcept nogil:
    # After a member's value: a ',' (next member) or the root object's '}'.
    cdef Py_ssize_t i = skip_ws(s.buf, s.i, s.n)
    s.i = i
    if i >= s.n:
        return ST_SYNTAX
    if s.buf[i] == 44:
        s.i = skip_ws(s.buf, i + 1, s.n)
        s.phase = PH_MEMBER
        return ST_OK
    if s.buf[i] == 125:
        s.i = i + 1
        s.phase = PH_END
        return ST_OK
    return ST_SYNTAX


cdef int _member(Scan* s, const Layout* lay, Columns* cols) noexcept nogil:
    """One member of the root object (or the root list): skip it, or enter its list.

    A repeated key of a selected list replaces the earlier list (json keeps the last).
    """
    cdef const uint8_t* buf = s.buf
    cdef Py_ssize_t n = s.n
    cdef Py_ssize_t i = s.i
    cdef Py_ssize_t j
    cdef int64_t t = 0
    cdef int kflags
    if not s.root_is_list:
        if i >= n or buf[i] != 34:
            return ST_SYNTAX
        j, kflags = skip_string(buf, i, n)
        if j < 0:
            return <int>-j
        if kflags & 1:
            return ST_KEYESCAPE
        t = _find_key(buf, i + 1, j - 1 - (i + 1), lay.tkeys, lay.tkey_off, 0, lay.n_tables)
        i = skip_ws(buf, j, n)
        s.i = i
        if i >= n or buf[i] != 58:
            return ST_SYNTAX
        i = skip_ws(buf, i + 1, n)
        s.i = i
    if t < 0:
        j = _skip_value(buf, i, n, s.stack)
        if j < 0:
            return <int>-j
        s.i = j
        return _next_member(s)
    if not s.part:
        if i >= n or buf[i] != 91:
            return ST_NOTLIST
        s.counts[t] = 0
        _drop_slow_table(cols, t)
        i = skip_ws(buf, i + 1, n)
    s.found[t] = 1
    s.t = t
    s.row = 0
    s.i = i
    s.phase = PH_LIST
    return ST_OK


cdef int _run(Scan* s, const Layout* lay, Columns* cols) noexcept nogil:
    """Scan on from where s stands. Returns a status (s.i: where it stopped), or
    NEED_ROWS / NEED_SLOW to have the arrays grown and be called again."""
    cdef int status
    if s.phase == PH_START:
        status = _start(s)
        if status != ST_OK:
            return status
    while True:
        if s.phase == PH_MEMBER:
            status = _member(s, lay, cols)
        elif s.phase == PH_LIST:
            status = _scan_list(s, lay, cols)
            if status == ST_OK:
                s.counts[s.t] = s.row
                if s.root_is_list:
                    s.phase = PH_END
                else:
                    status = _next_member(s)
        else:  # PH_END
            if s.part and s.stop >= 0:
                return ST_OK
            s.i = skip_ws(s.buf, s.i, s.n)
            return ST_OK if s.i == s.n else ST_EXTRA
        if status != ST_OK:
            return status


def _grow_rows(a, Py_ssize_t cap):
    # a copy of a with cap rows (the caller's arrays start at 16 rows or more)
    out = np.empty((cap, a.shape[1]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


cdef void _bind(Columns* cols, int64_t[:, ::1] ints, double[:, ::1] floats,
                int64_t[:, ::1] spans, uint8_t[:, ::1] present, int64_t[:, ::1] f4len,
                int64_t[:, ::1] slow):
    # Point cols at the arrays (after each growth). The arrays stay alive in scan().
    cols.ints = &ints[0, 0]
    cols.floats = &floats[0, 0]
    cols.spans = &spans[0, 0]
    cols.present = &present[0, 0]
    cols.f4len = &f4len[0, 0]
    cols.w_int = ints.shape[1]
    cols.w_float = floats.shape[1]
    cols.w_span = spans.shape[1]
    cols.w_present = present.shape[1]
    cols.w_f4 = f4len.shape[1]
    cols.rows = ints.shape[0]
    cols.slow = &slow[0, 0]
    cols.slow_rows = slow.shape[0]


def scan(const uint8_t[::1] buf, bint root_is_list, tuple layout, tuple work,
         Py_ssize_t start, Py_ssize_t stop):
    """Scan a whole document, or (``start >= 0``) one part of a root record list.

    buf: the UTF-8 document. root_is_list: the root is the single record list
    (table 0); otherwise the root is an object whose member tkeys[t] selects table
    t's record list (the last duplicate wins).

    layout = (tkeys, tkey_off, tfield_off, fkeys, fkey_off, fkind, fcol, fwidth, flen),
    as ``_jsonscan._layout`` builds it: fields tfield_off[t]..tfield_off[t+1] belong to
    table t; a float-list field f fills fwidth[f] float columns from fcol[f] and its
    length goes to column flen[f] of f4len. work = (ints, floats, spans, present,
    f4len), C-contiguous (rows x columns): ints int64, floats float64 with one spare
    column that receives the elements of an over-long list past its width, spans
    int64 (3 per field), present uint8 per field, f4len int64 per float-list field.
    They are replaced by larger copies when the rows run out.

    A part (root lists only; table 0) holds the records from ``buf[start]`` (a ``{``):
    with ``stop >= 0`` it ends at the ``,`` at ``stop`` (E_SPLIT if the records do not
    end exactly there: the split point was not between two top-level records); with
    ``stop < 0`` it is the last part, parsed to the list's ``]`` and the end of the
    document. The scan releases the GIL, so parts run in parallel on threads.

    Returns (status, position, counts, found, ints, floats, spans, present, f4len,
    slow, n_slow): slow[:n_slow] lists (table, row, column, token start, token end) of
    the numbers left to Python's float (column -1: cancelled by a later duplicate key).
    """
    cdef const uint8_t[::1] tkeys, fkeys
    cdef const int64_t[::1] tkey_off, tfield_off, fkey_off, fkind, fcol, fwidth, flen
    cdef int64_t[::1] counts_v
    cdef uint8_t[::1] found_v
    cdef Layout lay
    cdef Columns cols
    cdef Scan s
    cdef int status
    tkeys, tkey_off, tfield_off, fkeys, fkey_off, fkind, fcol, fwidth, flen = layout
    ints, floats, spans, present, f4len = work
    lay.tkeys = &tkeys[0]
    lay.tkey_off = &tkey_off[0]
    lay.tfield_off = &tfield_off[0]
    lay.fkeys = &fkeys[0]
    lay.fkey_off = &fkey_off[0]
    lay.fkind = &fkind[0]
    lay.fcol = &fcol[0]
    lay.fwidth = &fwidth[0]
    lay.flen = &flen[0]
    lay.n_tables = tkey_off.shape[0] - 1
    counts = np.zeros(lay.n_tables, dtype=np.int64)
    found = np.zeros(lay.n_tables, dtype=np.bool_)
    counts_v = counts
    found_v = found.view(np.uint8)
    slow = np.empty((SLOW_ROWS, 5), dtype=np.int64)
    _bind(&cols, ints, floats, spans, present, f4len, slow)
    cols.n_slow = 0
    s.buf = &buf[0]
    s.n = buf.shape[0]
    s.root_is_list = root_is_list
    s.part = root_is_list and start >= 0
    s.stop = stop if s.part else -1
    s.phase = PH_START
    s.i = start
    s.t = 0
    s.row = 0
    s.counts = &counts_v[0]
    s.found = &found_v[0]
    while True:
        with nogil:
            status = _run(&s, &lay, &cols)
        if status == NEED_ROWS:
            cap = 2 * cols.rows
            ints = _grow_rows(ints, cap)
            floats = _grow_rows(floats, cap)
            spans = _grow_rows(spans, cap)
            present = _grow_rows(present, cap)
            f4len = _grow_rows(f4len, cap)
        elif status == NEED_SLOW:
            slow = _grow_rows(slow, 2 * cols.slow_rows)
        else:
            break
        _bind(&cols, ints, floats, spans, present, f4len, slow)
    n_slow = cols.n_slow if status == ST_OK else 0
    return (status, s.i, counts, found, ints, floats, spans, present, f4len, slow, n_slow)


def parse_floats(const uint8_t[::1] buf, starts, ends):
    """Convert number tokens buf[starts[k]:ends[k]] to doubles.

    Returns (values, undecided) where undecided lists the k that need Python's float()
    (their values are NaN). Used by tests and by callers that hold token spans.

    >>> vals, todo = parse_floats(b"0.1 2e-3 1.00000000000000000000001", [0, 4, 9], [3, 8, 34])
    >>> vals[:2].tolist(), todo.tolist()
    ([0.1, 0.002], [2])
    """
    cdef const int64_t[::1] s = np.ascontiguousarray(starts, dtype=np.int64)
    cdef const int64_t[::1] e = np.ascontiguousarray(ends, dtype=np.int64)
    cdef Py_ssize_t m = s.shape[0]
    out = np.empty(m, dtype=np.float64)
    todo = np.empty(m, dtype=np.int64)
    cdef double[::1] out_v = out
    cdef int64_t[::1] todo_v = todo
    cdef Py_ssize_t k, nt = 0
    cdef const uint8_t* p = &buf[0]
    cdef Decimal d
    cdef bint ok
    cdef double v
    if e.shape[0] != m:
        raise ValueError(f"parse_floats: {m} starts but {e.shape[0]} ends")
    for k in range(m):
        if not (0 <= s[k] < e[k] <= buf.shape[0]):
            raise ValueError(f"parse_floats: token {k} [{s[k]}, {e[k]}) is not inside buf")
    with nogil:
        for k in range(m):
            d = parse_number(p, s[k], e[k])
            ok = d.end == e[k]
            if ok:
                ok, v = to_double(&d)
            if ok:
                out_v[k] = v
            else:
                out_v[k] = NAN
                todo_v[nt] = k
                nt += 1
    return out, todo[:nt]


def _pow10_128_table():
    """The Eisel-Lemire table as compiled in: (hi, lo) uint64 arrays for 10**-348 ..
    10**347 (tests compare it with the definition, computed with Python integers)."""
    cdef Py_ssize_t q
    hi = np.empty(EL_MAX - EL_MIN + 1, dtype=np.uint64)
    lo = np.empty_like(hi)
    for q in range(EL_MAX - EL_MIN + 1):
        hi[q] = ioukit_pow10_128[q][0]
        lo[q] = ioukit_pow10_128[q][1]
    return hi, lo
