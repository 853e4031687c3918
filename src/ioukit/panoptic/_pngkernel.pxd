from libc.stdint cimport uint8_t


cdef struct Buffer:
    uint8_t* data
    Py_ssize_t size
    Py_ssize_t capacity


cdef struct Png:
    Py_ssize_t width
    Py_ssize_t height
    Py_ssize_t channels
    Py_ssize_t stride


cdef Py_ssize_t inflate_zlib(const uint8_t* src, Py_ssize_t srclen, uint8_t* dst,
                             Py_ssize_t dstlen) noexcept nogil
cdef int unfilter_rows(uint8_t* data, Py_ssize_t height, Py_ssize_t row_bytes,
                       Py_ssize_t bpp, uint8_t* zero_row, uint8_t* same) noexcept nogil
cdef int grow(Buffer* buf, Py_ssize_t n) noexcept nogil
cdef int read_file(const char* path, Buffer* buf) noexcept nogil
cdef int decode_png(Buffer* raw, Buffer* pixels, Buffer* zero_row, Buffer* same,
                    Png* info) noexcept nogil
