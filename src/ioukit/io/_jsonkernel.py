"""Numba kernels behind :mod:`ioukit.io._jsonscan`: a validating JSON byte scanner.

The scanner walks the UTF-8 bytes of a JSON document once and writes the fields
of the selected record lists straight into NumPy columns. It validates the
whole document against the JSON grammar (RFC 8259) as Python's ``json`` module
applies it, and gives up (a non-zero status) on anything it does not handle, so
the caller can fall back to ``json`` and get the same answer or the same error.

Decimal-to-double conversion is correctly rounded, as ``float(token)`` is:

* Clinger's fast path (W. D. Clinger, "How to read floating point numbers
  accurately", PLDI 1990, section 4): when the decimal significand fits in 53
  bits and ``|exp10| <= 22``, both operands are exact doubles and one IEEE
  multiplication or division rounds correctly.
* Otherwise the Eisel-Lemire algorithm (D. Lemire, "Number parsing at a gigabyte
  per second", Software: Practice and Experience 51(8), 2021, algorithm 1; the
  variant with truncated 128-bit powers of ten used by Go's strconv,
  ``eiselLemire64``), which either returns the correctly rounded double or
  reports that it cannot decide (a halfway case, a subnormal, an overflow).
* Everything else (more than 19 significant digits, undecided Eisel-Lemire) is
  listed in a "slow" table and converted afterwards by Python's ``float`` on the
  token bytes, which is what ``json`` does.
"""

from __future__ import annotations

import numba
import numpy as np
from numba import types
from numba.extending import intrinsic

from .._numba_start import light_numba_start

light_numba_start()

# Status codes returned by the kernel (0 = success). Messages live in _jsonscan.
OK = 0
E_SYNTAX = 1  # not valid JSON at this byte
E_TYPE = 2  # a value of a kind the field spec does not take (e.g. string for an int)
E_INTFLOAT = 3  # a fraction or exponent where an integer is expected
E_INTRANGE = 4  # an integer outside int64
E_NONFINITE = 5  # NaN / Infinity literals (Python's json extension)
E_KEYESCAPE = 6  # an object key written with backslash escapes
E_DEPTH = 7  # nesting deeper than the scanner's stack
E_NOTLIST = 8  # the selected value is not a list
E_NOTOBJ = 9  # a list element that is not an object / a root that is not an object
E_NULL = 10  # null where a typed value is expected
E_UTF8 = 11  # invalid UTF-8 or a control character inside a string
E_EXTRA = 12  # bytes after the root value
E_SPLIT = 13  # a part scan did not end exactly at its split point (see scan)
_NEED_SLOW = 99  # internal: the slow-number table is full, grow it and redo the record

# Field kinds (mirrors _jsonscan.KINDS).
K_INT = 0
K_FLOAT = 1
K_FLOAT4 = 2
K_STR = 3
K_SPAN = 4
K_FLAG = 5

_MAX_DEPTH = 512
# json.loads refuses integer tokens longer than this (sys.get_int_max_str_digits() default).
_INT_MAX_STR_DIGITS = 4300

_U0 = np.uint64(0)
_U1 = np.uint64(1)
_U2 = np.uint64(2)
_U3 = np.uint64(3)
_U9 = np.uint64(9)
_U10 = np.uint64(10)
_U32 = np.uint64(32)
_U52 = np.uint64(52)
_U53 = np.uint64(53)
_U63 = np.uint64(63)
_M32 = np.uint64(0xFFFFFFFF)
_M9 = np.uint64(0x1FF)
_MANT52 = np.uint64(0xFFFFFFFFFFFFF)
_SIGN = np.uint64(0x8000000000000000)
_ALL1 = np.uint64(0xFFFFFFFFFFFFFFFF)
_TWO53 = np.uint64(1 << 53)
_I64MAX = np.uint64((1 << 63) - 1)
_I64NEG = np.uint64(1 << 63)
_I64MIN = np.int64(-(1 << 63))  # a constant, not np.iinfo: that pulls numba.np.arraymath in at load

# Exact doubles 1e0 .. 1e22 for Clinger's fast path (10**22 < 2**53 * 2**22 is exact).
_POW10 = np.array([10.0**k for k in range(23)], dtype=np.float64)

# 5**k and 2**k, k <= 27 (5**27 < 2**63), for decimals that are exactly a double.
_POW5 = np.array([5**k for k in range(28)], dtype=np.uint64)
_POW2 = np.array([2.0**k for k in range(28)], dtype=np.float64)

_EL_MIN = -348
_EL_MAX = 347


def _eisel_lemire_table() -> tuple[np.ndarray, np.ndarray]:
    """128-bit significands of 10**q, q in [-348, 347], truncated (Go strconv's table)."""
    hi = np.empty(_EL_MAX - _EL_MIN + 1, dtype=np.uint64)
    lo = np.empty_like(hi)
    for q in range(_EL_MIN, _EL_MAX + 1):
        if q >= 0:
            v = 10**q
            b = v.bit_length()
            m = v >> (b - 128) if b > 128 else v << (128 - b)
        else:
            d = 10**-q
            # floor(2**(bits(d)+127) / d) lies in (2**127, 2**128): a normalised 128-bit value.
            m = (1 << (d.bit_length() + 127)) // d
        hi[q - _EL_MIN] = m >> 64
        lo[q - _EL_MIN] = m & ((1 << 64) - 1)
    return hi, lo


_EL_HI, _EL_LO = _eisel_lemire_table()


@intrinsic
def _bits_to_f64(typingctx, x):
    """Reinterpret uint64 bits as a float64 (no value conversion)."""
    sig = types.float64(types.uint64)

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], context.get_value_type(types.float64))

    return sig, codegen


@numba.njit(cache=True, inline="always")
def _mul64(a, b):
    """Full 64x64 -> 128-bit product (hi, lo) from 32-bit halves."""
    a0 = a & _M32
    a1 = a >> _U32
    b0 = b & _M32
    b1 = b >> _U32
    p00 = a0 * b0
    p01 = a0 * b1
    p10 = a1 * b0
    p11 = a1 * b1
    mid = (p00 >> _U32) + (p01 & _M32) + (p10 & _M32)
    hi = p11 + (p01 >> _U32) + (p10 >> _U32) + (mid >> _U32)
    lo = (mid << _U32) | (p00 & _M32)
    return hi, lo


@numba.njit(cache=True, inline="always")
def _clz64(x):
    n = 0
    if x < np.uint64(1 << 32):
        n += 32
        x <<= _U32
    if x < np.uint64(1 << 48):
        n += 16
        x <<= np.uint64(16)
    if x < np.uint64(1 << 56):
        n += 8
        x <<= np.uint64(8)
    if x < np.uint64(1 << 60):
        n += 4
        x <<= np.uint64(4)
    if x < np.uint64(1 << 62):
        n += 2
        x <<= _U2
    if x < np.uint64(1 << 63):
        n += 1
    return n


@numba.njit(cache=True, _nrt=False)
def _eisel_lemire(man, exp10, neg):
    """Correctly rounded man * 10**exp10 (man != 0), or ok=False when undecided.

    Lemire 2021, algorithm 1, as Go's strconv.eiselLemire64 writes it.
    """
    if exp10 < _EL_MIN or exp10 > _EL_MAX:
        return False, 0.0
    clz = _clz64(man)
    man = man << np.uint64(clz)
    # floor(exp10 * log2(10)) == (217706 * exp10) >> 16 for |exp10| <= 1650 (Lemire 2021, sec. 5).
    ret_exp2 = ((217706 * exp10) >> 16) + 64 + 1023 - clz
    idx = exp10 - _EL_MIN
    x_hi, x_lo = _mul64(man, _EL_HI[idx])
    if (x_hi & _M9) == _M9 and x_lo + man < man:
        y_hi, y_lo = _mul64(man, _EL_LO[idx])
        merged_hi = x_hi
        merged_lo = x_lo + y_hi
        if merged_lo < x_lo:
            merged_hi += _U1
        if (merged_hi & _M9) == _M9 and merged_lo == _ALL1 and y_lo + man < man:
            return False, 0.0
        x_hi = merged_hi
        x_lo = merged_lo
    msb = x_hi >> _U63
    ret_man = x_hi >> (msb + _U9)
    ret_exp2 -= 1 - np.int64(msb)
    if x_lo == _U0 and (x_hi & _M9) == _U0 and (ret_man & _U3) == _U1:
        return False, 0.0
    ret_man += ret_man & _U1
    ret_man >>= _U1
    if (ret_man >> _U53) > _U0:
        ret_man >>= _U1
        ret_exp2 += 1
    if ret_exp2 <= 0 or ret_exp2 >= 0x7FF:
        return False, 0.0
    bits = (np.uint64(ret_exp2) << _U52) | (ret_man & _MANT52)
    if neg:
        bits |= _SIGN
    return True, _bits_to_f64(bits)


@numba.njit(cache=True, inline="always")
def _is_ws(c):
    return c == 32 or c == 10 or c == 13 or c == 9


@numba.njit(cache=True, inline="always")
def _ws(buf, i, n):
    while i < n:
        c = buf[i]
        if c == 32 or c == 10 or c == 13 or c == 9:
            i += 1
        else:
            break
    return i


@numba.njit(cache=True, inline="always")
def _is_digit(c):
    return c >= 48 and c <= 57


@numba.njit(cache=True, inline="always")
def _is_hex(c):
    return (c >= 48 and c <= 57) or (c >= 65 and c <= 70) or (c >= 97 and c <= 102)


@numba.njit(cache=True, _nrt=False)
def _utf8_tail(buf, i, n):
    """Validate one multi-byte UTF-8 sequence starting at buf[i] >= 0x80 (strict:
    no overlongs, no surrogates, <= U+10FFFF). Returns the index after it, or -1."""
    c = buf[i]
    if c >= 0xC2 and c <= 0xDF:
        if i + 1 < n and (buf[i + 1] & 0xC0) == 0x80:
            return i + 2
        return -1
    if c >= 0xE0 and c <= 0xEF:
        if i + 2 >= n:
            return -1
        c1 = buf[i + 1]
        lo = 0x80
        hi = 0xBF
        if c == 0xE0:
            lo = 0xA0
        elif c == 0xED:
            hi = 0x9F
        if c1 < lo or c1 > hi or (buf[i + 2] & 0xC0) != 0x80:
            return -1
        return i + 3
    if c >= 0xF0 and c <= 0xF4:
        if i + 3 >= n:
            return -1
        c1 = buf[i + 1]
        lo = 0x80
        hi = 0xBF
        if c == 0xF0:
            lo = 0x90
        elif c == 0xF4:
            hi = 0x8F
        if c1 < lo or c1 > hi or (buf[i + 2] & 0xC0) != 0x80 or (buf[i + 3] & 0xC0) != 0x80:
            return -1
        return i + 4
    return -1


@numba.njit(cache=True, _nrt=False, inline="always")
def _skip_string(buf, i, n):
    """buf[i] == '"'. Returns (index after the closing quote, flags) or (-status, 0).

    flags bit 0: the string has backslash escapes; bit 1: it has non-ASCII bytes.
    """
    i += 1
    flags = 0
    while i < n:
        c = buf[i]
        if c == 34:
            return i + 1, flags
        if c == 92:
            flags |= 1
            if i + 1 >= n:
                return -E_SYNTAX, 0
            e = buf[i + 1]
            if e == 117:  # \uXXXX
                if i + 5 >= n:
                    return -E_SYNTAX, 0
                for k in range(2, 6):
                    if not _is_hex(buf[i + k]):
                        return -E_SYNTAX, 0
                i += 6
            elif (
                e == 34 or e == 92 or e == 47 or e == 98 or e == 102 or e == 110 or e == 114
            ) or e == 116:
                i += 2
            else:
                return -E_SYNTAX, 0
        elif c < 32:
            return -E_UTF8, 0
        elif c >= 128:
            flags |= 2
            i = _utf8_tail(buf, i, n)
            if i < 0:
                return -E_UTF8, 0
        else:
            i += 1
    return -E_SYNTAX, 0


@numba.njit(cache=True, _nrt=False, inline="always")
def _skip_number(buf, i, n):
    """Validate a JSON number at buf[i]; return the index after it or -status."""
    if buf[i] == 45:
        i += 1
    if i >= n:
        return -E_SYNTAX
    c = buf[i]
    if c == 48:
        i += 1
    elif c >= 49 and c <= 57:
        i0 = i
        i += 1
        while i < n and _is_digit(buf[i]):
            i += 1
        if i - i0 > _INT_MAX_STR_DIGITS and not (
            i < n and (buf[i] == 46 or buf[i] == 101 or buf[i] == 69)
        ):
            return -E_INTRANGE
    elif c == 73:  # -Infinity
        return -E_NONFINITE
    else:
        return -E_SYNTAX
    if i < n and buf[i] == 46:
        i += 1
        if i >= n or not _is_digit(buf[i]):
            return -E_SYNTAX
        while i < n and _is_digit(buf[i]):
            i += 1
    if i < n and (buf[i] == 101 or buf[i] == 69):
        i += 1
        if i < n and (buf[i] == 43 or buf[i] == 45):
            i += 1
        if i >= n or not _is_digit(buf[i]):
            return -E_SYNTAX
        while i < n and _is_digit(buf[i]):
            i += 1
    return i


@numba.njit(cache=True, _nrt=False, inline="always")
def _literal(buf, i, n):
    """true/false/null at buf[i]: (index after, code 1=true 0=false 2=null) or (-status, 0)."""
    c = buf[i]
    if c == 116:
        if i + 3 < n and buf[i + 1] == 114 and buf[i + 2] == 117 and buf[i + 3] == 101:
            return i + 4, 1
    elif c == 102:
        if (
            i + 4 < n
            and buf[i + 1] == 97
            and buf[i + 2] == 108
            and buf[i + 3] == 115
            and buf[i + 4] == 101
        ):
            return i + 5, 0
    elif c == 110:
        if i + 3 < n and buf[i + 1] == 117 and buf[i + 2] == 108 and buf[i + 3] == 108:
            return i + 4, 2
    elif c == 78:  # NaN
        return -E_NONFINITE, 0
    return -E_SYNTAX, 0


@numba.njit(cache=True, _nrt=False, inline="always")
def _skip_scalar(buf, i, n):
    c = buf[i]
    if c == 34:
        j, _ = _skip_string(buf, i, n)
        return j
    if c == 45 or _is_digit(c):
        return _skip_number(buf, i, n)
    if c == 73:  # Infinity
        return -E_NONFINITE
    j, _ = _literal(buf, i, n)
    return j


@numba.njit(cache=True, _nrt=False)
def _skip_value(buf, i, n, stack):
    """Validate and skip any JSON value starting at the first non-blank byte from i.

    Iterative (explicit container stack) so deep nesting cannot overflow the C stack.
    Returns the index just after the value, or -status.
    """
    depth = 0
    while True:
        i = _ws(buf, i, n)
        if i >= n:
            return -E_SYNTAX
        c = buf[i]
        if c == 123 or c == 91:
            j = _ws(buf, i + 1, n)
            close = 125 if c == 123 else 93
            if j < n and buf[j] == close:
                i = j + 1
            else:
                if depth >= _MAX_DEPTH:
                    return -E_DEPTH
                stack[depth] = c
                depth += 1
                i = j
                if c == 123:
                    if i >= n or buf[i] != 34:
                        return -E_SYNTAX
                    i, _ = _skip_string(buf, i, n)
                    if i < 0:
                        return i
                    i = _ws(buf, i, n)
                    if i >= n or buf[i] != 58:
                        return -E_SYNTAX
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
            i = _ws(buf, i, n)
            if i >= n:
                return -E_SYNTAX
            c = buf[i]
            top = stack[depth - 1]
            if c == 44:
                i += 1
                if top == 123:
                    i = _ws(buf, i, n)
                    if i >= n or buf[i] != 34:
                        return -E_SYNTAX
                    i, _ = _skip_string(buf, i, n)
                    if i < 0:
                        return i
                    i = _ws(buf, i, n)
                    if i >= n or buf[i] != 58:
                        return -E_SYNTAX
                    i += 1
                break
            if (c == 93 and top == 91) or (c == 125 and top == 123):
                i += 1
                depth -= 1
                continue
            return -E_SYNTAX


@numba.njit(cache=True, _nrt=False, inline="always")
def _parse_number(buf, i, n):
    """Parse a JSON number at buf[i] into its decimal parts.

    Returns (end, is_int, neg, man, exp10, exact) with value = (-1)**neg * man * 10**exp10;
    exact is False when more than 19 significant digits had to be dropped.
    end < 0 is -status.
    """
    neg = False
    if buf[i] == 45:
        neg = True
        i += 1
    man = _U0
    nd = 0
    exp10 = 0
    exact = True
    is_int = True
    if i >= n:
        return -E_SYNTAX, is_int, neg, man, exp10, exact
    c = buf[i]
    if c == 48:
        i += 1
    elif c >= 49 and c <= 57:
        while i < n:
            c = buf[i]
            if c < 48 or c > 57:
                break
            if nd < 19:
                man = man * _U10 + np.uint64(c - 48)
                nd += 1
            else:
                exp10 += 1
                if c != 48:
                    exact = False
            i += 1
    elif c == 73:
        return -E_NONFINITE, is_int, neg, man, exp10, exact
    else:
        return -E_SYNTAX, is_int, neg, man, exp10, exact
    if (
        is_int
        and exp10 + nd > _INT_MAX_STR_DIGITS
        and not (i < n and (buf[i] == 46 or buf[i] == 101 or buf[i] == 69))
    ):
        return -E_INTRANGE, is_int, neg, man, exp10, exact
    if i < n and buf[i] == 46:
        is_int = False
        i += 1
        if i >= n or not _is_digit(buf[i]):
            return -E_SYNTAX, is_int, neg, man, exp10, exact
        while i < n:
            c = buf[i]
            if c < 48 or c > 57:
                break
            if nd == 0 and c == 48:
                exp10 -= 1
            elif nd < 19:
                man = man * _U10 + np.uint64(c - 48)
                nd += 1
                exp10 -= 1
            elif c != 48:
                exact = False
            i += 1
    if i < n and (buf[i] == 101 or buf[i] == 69):
        is_int = False
        i += 1
        eneg = False
        if i < n and (buf[i] == 43 or buf[i] == 45):
            eneg = buf[i] == 45
            i += 1
        if i >= n or not _is_digit(buf[i]):
            return -E_SYNTAX, is_int, neg, man, exp10, exact
        e = 0
        while i < n and _is_digit(buf[i]):
            # Clamp: any |exponent| past 10**6 already under/overflows every double.
            if e < 1000000:
                e = e * 10 + (buf[i] - 48)
            i += 1
        exp10 += -e if eneg else e
    return i, is_int, neg, man, exp10, exact


@numba.njit(cache=True, _nrt=False, inline="always")
def _to_double(is_int, neg, man, exp10, exact):
    """(ok, value); ok False sends the token to Python's float()."""
    if man == _U0:
        # json turns "-0" into int 0, and float(0) is +0.0; "-0.0" stays -0.0.
        if neg and not is_int:
            return True, -0.0
        return True, 0.0
    if not exact:
        return False, 0.0
    if man <= _TWO53 and exp10 >= -22 and exp10 <= 22:
        # Clinger 1990, sec. 4: exact operands, a single correctly rounded operation.
        f = np.float64(man)
        if exp10 >= 0:
            f = f * _POW10[exp10]
        else:
            f = f / _POW10[-exp10]
        return True, -f if neg else f
    if exp10 < 0 and exp10 >= -27:
        # man * 10**-k == (man / 5**k) * 2**-k exactly when 5**k divides man: the decimal
        # is a double written out in full (e.g. a float32 widened), where truncated-table
        # Eisel-Lemire cannot decide. Dividing by a power of two is exact in the normal range.
        p5 = _POW5[-exp10]
        if man % p5 == _U0:
            m2 = man // p5
            if m2 <= _TWO53:
                f = np.float64(m2) / _POW2[-exp10]
                return True, -f if neg else f
    return _eisel_lemire(man, exp10, neg)


@numba.njit(cache=True, _nrt=False, inline="always")
def _parse_int(buf, i, n):
    """(end, value) of a JSON integer at buf[i]; end < 0 is -status."""
    neg = False
    if buf[i] == 45:
        neg = True
        i += 1
    if i >= n:
        return -E_SYNTAX, 0
    c = buf[i]
    v = _U0
    if c == 48:
        i += 1
    elif c >= 49 and c <= 57:
        nd = 0
        while i < n:
            c = buf[i]
            if c < 48 or c > 57:
                break
            nd += 1
            if nd > 19:
                return -E_INTRANGE, 0
            v = v * _U10 + np.uint64(c - 48)
            i += 1
        # 19 digits fit in uint64 (< 1.8e19) without wrapping; now check int64's range.
        if neg:
            if v > _I64NEG:
                return -E_INTRANGE, 0
        elif v > _I64MAX:
            return -E_INTRANGE, 0
    elif c == 73:
        return -E_NONFINITE, 0
    else:
        return -E_SYNTAX, 0
    if i < n and (buf[i] == 46 or buf[i] == 101 or buf[i] == 69):
        j = _skip_number(buf, i - 1, n)  # still validate, so a syntax error wins
        if j < 0:
            return j, 0
        return -E_INTFLOAT, 0
    if neg:
        if v == _I64NEG:
            return i, _I64MIN
        return i, -np.int64(v)
    return i, np.int64(v)


@numba.njit(cache=True, _nrt=False, inline="always")
def _invalidate_slow(slow, n_slow, t, row, c0, c1):
    """Drop pending slow conversions of (table t, row, float columns [c0, c1)):
    a later duplicate key replaces the value, as json keeps the last one."""
    k = n_slow - 1
    while k >= 0 and slow[k, 1] == row and slow[k, 0] == t:
        if slow[k, 2] >= c0 and slow[k, 2] < c1:
            slow[k, 2] = -1  # keeps (table, row) so the backward walk goes on past it
        k -= 1


@numba.njit(cache=True, _nrt=False, inline="always")
def _number_into(buf, i, n, floats, row, col, slow, n_slow, t):
    """Parse a number at buf[i] into floats[row, col]. Returns (end or -status, n_slow)."""
    c = buf[i]
    if not (c == 45 or _is_digit(c)):
        if c == 110:
            j, _ = _literal(buf, i, n)
            return (-E_NULL if j > 0 else j), n_slow
        if c == 73 or c == 78:
            return -E_NONFINITE, n_slow
        if c == 34 or c == 91 or c == 123 or c == 116 or c == 102:
            return -E_TYPE, n_slow
        return -E_SYNTAX, n_slow
    j, is_int, neg, man, exp10, exact = _parse_number(buf, i, n)
    if j < 0:
        return j, n_slow
    ok, v = _to_double(is_int, neg, man, exp10, exact)
    if ok:
        floats[row, col] = v
        return j, n_slow
    if n_slow >= slow.shape[0]:
        return -_NEED_SLOW, n_slow
    slow[n_slow, 0] = t
    slow[n_slow, 1] = row
    slow[n_slow, 2] = col
    slow[n_slow, 3] = i
    slow[n_slow, 4] = j
    floats[row, col] = np.nan
    return j, n_slow + 1


@numba.njit(cache=True, _nrt=False)
def _parse_record(
    buf,
    i,
    n,
    t,
    row,
    f0,
    f1,
    fkeys,
    fkey_off,
    fkind,
    fcol,
    ints,
    floats,
    spans,
    present,
    f4len,
    slow,
    n_slow,
    stack,
):
    """Parse one object (buf[i] == '{') into row `row` of table t's columns.

    Returns (index after the object or -status, n_slow).
    """
    for f in range(f0, f1):
        present[row, f] = 0
        k = fkind[f]
        c = fcol[f]
        if k == K_INT or k == K_FLAG:
            ints[row, c] = 0
        elif k == K_FLOAT:
            floats[row, c] = np.nan
        elif k == K_FLOAT4:
            for q in range(4):
                floats[row, c + q] = np.nan
            f4len[row, c // 4] = -1
        else:
            spans[row, c] = -1
            spans[row, c + 1] = -1
            spans[row, c + 2] = 0
    i = _ws(buf, i + 1, n)
    if i < n and buf[i] == 125:
        return i + 1, n_slow
    while True:
        if i >= n or buf[i] != 34:
            return -E_SYNTAX, n_slow
        ks = i + 1
        i, kflags = _skip_string(buf, i, n)
        if i < 0:
            return i, n_slow
        if kflags & 1:
            return -E_KEYESCAPE, n_slow
        ke = i - 1
        klen = ke - ks
        i = _ws(buf, i, n)
        if i >= n or buf[i] != 58:
            return -E_SYNTAX, n_slow
        i = _ws(buf, i + 1, n)
        if i >= n:
            return -E_SYNTAX, n_slow
        field = -1
        for f in range(f0, f1):
            o = fkey_off[f]
            if fkey_off[f + 1] - o != klen:
                continue
            same = True
            for q in range(klen):
                if buf[ks + q] != fkeys[o + q]:
                    same = False
                    break
            if same:
                field = f
                break
        c = buf[i]
        k = fkind[field] if field >= 0 else K_SPAN
        # Any non-zero status only sends the caller to json, which finds the precise
        # error itself, so type errors return at once without validating further.
        if k == K_SPAN:  # unknown keys and raw spans: one (inlined) skip site
            j = _skip_value(buf, i, n, stack)
            if j < 0:
                return j, n_slow
            if field >= 0:
                col = fcol[field]
                spans[row, col] = i
                spans[row, col + 1] = j
                spans[row, col + 2] = c
                present[row, field] = 1
            i = j
        else:
            col = fcol[field]
            if k == K_INT or k == K_FLAG:
                if c == 45 or _is_digit(c):
                    i, v = _parse_int(buf, i, n)
                    if i < 0:
                        return i, n_slow
                    ints[row, col] = v
                elif k == K_FLAG and (c == 116 or c == 102):
                    i, v = _literal(buf, i, n)
                    if i < 0:
                        return i, n_slow
                    ints[row, col] = v
                elif c == 110:
                    return -E_NULL, n_slow
                elif c == 73 or c == 78:
                    return -E_NONFINITE, n_slow
                else:
                    return -E_TYPE, n_slow
            elif k == K_FLOAT or k == K_FLOAT4:
                # One shared number site (the converter is inlined once, not twice).
                is4 = k == K_FLOAT4
                _invalidate_slow(slow, n_slow, t, row, col, col + (4 if is4 else 1))
                cnt = 0
                empty = False
                if is4:
                    if c != 91:
                        return (-E_NULL if c == 110 else -E_TYPE), n_slow
                    i = _ws(buf, i + 1, n)
                    if i < n and buf[i] == 93:
                        i += 1
                        empty = True
                while not empty:
                    if i >= n:
                        return -E_SYNTAX, n_slow
                    # Elements past the 4th are parsed (validated) into a scratch column.
                    dst = col + cnt if cnt < 4 else floats.shape[1] - 1
                    i, n_slow = _number_into(buf, i, n, floats, row, dst, slow, n_slow, t)
                    if i < 0:
                        return i, n_slow
                    cnt += 1
                    if not is4:
                        break
                    i = _ws(buf, i, n)
                    if i >= n:
                        return -E_SYNTAX, n_slow
                    if buf[i] == 44:
                        i = _ws(buf, i + 1, n)
                        continue
                    if buf[i] == 93:
                        i += 1
                        break
                    return -E_SYNTAX, n_slow
                if is4:
                    f4len[row, col // 4] = cnt
                    if cnt != 4:
                        _invalidate_slow(slow, n_slow, t, row, col, col + 4)
                        for q in range(4):
                            floats[row, col + q] = np.nan
            else:  # K_STR
                if c != 34:
                    return (-E_NULL if c == 110 else -E_TYPE), n_slow
                j, sflags = _skip_string(buf, i, n)
                if j < 0:
                    return j, n_slow
                spans[row, col] = i
                spans[row, col + 1] = j
                spans[row, col + 2] = sflags
                i = j
            present[row, field] = 1
        i = _ws(buf, i, n)
        if i >= n:
            return -E_SYNTAX, n_slow
        c = buf[i]
        if c == 44:
            i = _ws(buf, i + 1, n)
            continue
        if c == 125:
            return i + 1, n_slow
        return -E_SYNTAX, n_slow


@numba.njit(cache=True)
def _grow_rows(a, cap):
    # rows start at 16 or more (the caller's arrays), so doubling always adds rows
    out = np.empty((cap, a.shape[1]), dtype=a.dtype)
    out[: a.shape[0]] = a
    return out


@numba.njit(cache=True, inline="always")
def _scan_list(
    buf, i, n, stop, t, f0, f1, fkeys, fkey_off, fkind, fcol,
    ints, floats, spans, present, f4len, slow, n_slow, stack,
):  # fmt: skip
    """Parse the records of a list into rows 0, 1, ... of table t's columns.

    ``buf[i]`` is the first non-blank byte after the list's ``[`` (or, for a part,
    the ``{`` of its first record). With ``stop < 0`` the list is parsed to its ``]``
    and i returned just past it; with ``stop >= 0`` parsing ends when the blank-skipped
    position after a record is exactly ``stop`` (a ``,`` between records), and any
    other ending (past ``stop``, or the list's end first) is E_SPLIT. The column
    arrays grow (doubling) as needed and are returned with the row count.

    Returns (status, i, row count, ints, floats, spans, present, f4len, slow, n_slow).
    """
    row = 0
    if stop < 0 and i < n and buf[i] == 93:
        return (OK, i + 1, row, ints, floats, spans, present, f4len, slow, n_slow)
    while True:
        if i >= n:
            return (E_SYNTAX, i, row, ints, floats, spans, present, f4len, slow, n_slow)
        if buf[i] != 123:
            return (E_NOTOBJ, i, row, ints, floats, spans, present, f4len, slow, n_slow)
        if row >= ints.shape[0]:
            cap = 2 * ints.shape[0]
            ints = _grow_rows(ints, cap)
            floats = _grow_rows(floats, cap)
            spans = _grow_rows(spans, cap)
            present = _grow_rows(present, cap)
            f4len = _grow_rows(f4len, cap)
        while True:
            j, n_slow = _parse_record(
                buf, i, n, t, row, f0, f1, fkeys, fkey_off, fkind, fcol,
                ints, floats, spans, present, f4len, slow, n_slow, stack,
            )  # fmt: skip
            if j != -_NEED_SLOW:
                break
            slow = _grow_rows(slow, 2 * slow.shape[0])
            n_slow_keep = 0
            # Forget this record's partial entries; it is parsed again.
            for k in range(n_slow):
                if not (slow[k, 0] == t and slow[k, 1] == row):
                    slow[n_slow_keep] = slow[k]
                    n_slow_keep += 1
            n_slow = n_slow_keep
        if j < 0:
            return (-j, i, row, ints, floats, spans, present, f4len, slow, n_slow)
        row += 1
        i = _ws(buf, j, n)
        if stop >= 0 and i >= stop:
            status = OK if i == stop else E_SPLIT
            return (status, i, row, ints, floats, spans, present, f4len, slow, n_slow)
        if i >= n:
            return (E_SYNTAX, i, row, ints, floats, spans, present, f4len, slow, n_slow)
        if buf[i] == 44:
            i = _ws(buf, i + 1, n)
            continue
        if buf[i] == 93:
            if stop >= 0:  # the list ended before the split point
                return (E_SPLIT, i, row, ints, floats, spans, present, f4len, slow, n_slow)
            return (OK, i + 1, row, ints, floats, spans, present, f4len, slow, n_slow)
        return (E_SYNTAX, i, row, ints, floats, spans, present, f4len, slow, n_slow)


@numba.njit(cache=True, nogil=True)
def scan(
    buf,
    root_is_list,
    tkeys,
    tkey_off,
    tfield_off,
    fkeys,
    fkey_off,
    fkind,
    fcol,
    ints,
    floats,
    spans,
    present,
    f4len,
    start,
    stop,
):
    """Scan a whole document, or (``start >= 0``) one part of a root record list.

    root_is_list: the root is the single record list (table 0); otherwise the root is an
    object whose member tkeys[t] selects table t's record list (the last duplicate wins).
    Fields tfield_off[t]..tfield_off[t+1] belong to table t. The column arrays (rows x
    columns: ints int64, floats float64 with one spare column that receives the 5th+
    elements of an over-long float4 list, spans int64, present uint8 per field, f4len
    int64 per float4 field) come from the caller and are replaced by larger copies
    when the rows run out.

    A part (root lists only; table 0) holds the records from ``buf[start]`` (a ``{``):
    with ``stop >= 0`` it ends at the ``,`` at ``stop`` (E_SPLIT if the records do not
    end exactly there: the split point was not between two top-level records); with
    ``stop < 0`` it is the last part, parsed to the list's ``]`` and the end of the
    document. (One kernel, and one call of the record loop, for both uses: the
    scanner is large, and each compiled copy costs tens of seconds on a cold cache.)

    Returns (status, position, counts, found, ints, floats, spans, present, f4len, slow, n_slow).
    """
    n = buf.shape[0]
    n_tables = tkey_off.shape[0] - 1
    counts = np.zeros(n_tables, dtype=np.int64)
    found = np.zeros(n_tables, dtype=np.bool_)
    slow = np.empty((64, 5), dtype=np.int64)
    n_slow = 0
    stack = np.empty(_MAX_DEPTH, dtype=np.uint8)
    part = start >= 0  # (root lists only) records from buf[start], not the whole list
    i = start if part else _ws(buf, 0, n)
    if i >= n:
        return (E_SYNTAX, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
    if root_is_list:
        n_members = 1
        t = 0
    else:
        if buf[i] != 123:
            return (E_NOTOBJ, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
        i = _ws(buf, i + 1, n)
        n_members = 0 if (i < n and buf[i] == 125) else -1
        if n_members == 0:
            i += 1
    # Members of the root object (or the root list itself, once).
    while n_members != 0:
        t = 0 if root_is_list else -1
        if not root_is_list:
            if i >= n or buf[i] != 34:
                return (E_SYNTAX, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
            ks = i + 1
            j, kflags = _skip_string(buf, i, n)
            if j < 0:
                return (-j, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
            ke = j - 1
            if kflags & 1:
                return (E_KEYESCAPE, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
            for tt in range(n_tables):
                o = tkey_off[tt]
                if tkey_off[tt + 1] - o != ke - ks:
                    continue
                same = True
                for q in range(ke - ks):
                    if buf[ks + q] != tkeys[o + q]:
                        same = False
                        break
                if same:
                    t = tt
                    break
            i = _ws(buf, j, n)
            if i >= n or buf[i] != 58:
                return (E_SYNTAX, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
            i = _ws(buf, i + 1, n)
        if t < 0:
            j = _skip_value(buf, i, n, stack)
            if j < 0:
                return (-j, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
            i = j
        else:
            if not part:
                if i >= n or buf[i] != 91:
                    return (
                        E_NOTLIST, i, counts, found, ints, floats, spans, present, f4len, slow, 0
                    )  # fmt: skip
                # A repeated key replaces the earlier list (json keeps the last duplicate).
                counts[t] = 0
                n_keep = 0
                for k in range(n_slow):
                    if slow[k, 0] != t:
                        slow[n_keep] = slow[k]
                        n_keep += 1
                n_slow = n_keep
                i = _ws(buf, i + 1, n)
            found[t] = True
            # One call site: the record loop is large, and each inlined copy costs
            # compile time on a cold cache.
            status, i, cnt, ints, floats, spans, present, f4len, slow, n_slow = _scan_list(
                buf, i, n, stop if part else -1, t, tfield_off[t], tfield_off[t + 1], fkeys,
                fkey_off, fkind, fcol, ints, floats, spans, present, f4len, slow, n_slow, stack,
            )  # fmt: skip
            if status != OK:
                return (status, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
            counts[t] = cnt
        if root_is_list:
            break
        i = _ws(buf, i, n)
        if i >= n:
            return (E_SYNTAX, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
        if buf[i] == 44:
            i = _ws(buf, i + 1, n)
            continue
        if buf[i] == 125:
            i += 1
            break
        return (E_SYNTAX, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
    if part and stop >= 0:
        return (OK, i, counts, found, ints, floats, spans, present, f4len, slow, n_slow)
    i = _ws(buf, i, n)
    if i != n:
        return (E_EXTRA, i, counts, found, ints, floats, spans, present, f4len, slow, 0)
    return (OK, i, counts, found, ints, floats, spans, present, f4len, slow, n_slow)


@numba.njit(cache=True)
def parse_floats(buf, starts, ends):
    """Convert number tokens buf[starts[k]:ends[k]] to doubles.

    Returns (values, undecided) where undecided lists the k that need Python's float().
    Used by tests and by callers that hold token spans.
    """
    m = starts.shape[0]
    out = np.empty(m, dtype=np.float64)
    todo = np.empty(m, dtype=np.int64)
    nt = 0
    for k in range(m):
        j, is_int, neg, man, exp10, exact = _parse_number(buf, starts[k], ends[k])
        ok = j == ends[k]
        if ok:
            ok, v = _to_double(is_int, neg, man, exp10, exact)
        if ok:
            out[k] = v
        else:
            out[k] = np.nan
            todo[nt] = k
            nt += 1
    return out, todo[:nt]
