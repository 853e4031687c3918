# distutils: extra_compile_args = -fno-trapping-math
"""The kernels of ``ioukit.boxes._kernels``, built for AVX2.

The same source (``_dense.pxi``, ``_sparse.pxi``) compiled for AVX2 CPUs: 8 float32
(4 float64) box pairs per instruction instead of the x86-64 baseline's 4 (2), twice the
throughput of the IoU loops. (Built for the baseline alone, the dense IoU took twice the
old Numba kernel's time: Numba compiled for the host CPU.) The results are the same
bits: AVX2 adds lanes, not another rounding (the build turns FMA contraction off, and
AVX2 alone has no FMA).

Every function of this module is AVX2 code: ``ioukit.boxes._measures`` imports it only
where ``_kernels.cpu_has_avx2()`` says the CPU runs it. Compilers other than GCC, and
other processors, build the baseline code here (then as fast as ``_kernels``).
``-fno-trapping-math``: as in ``_kernels``.
"""

cdef extern from *:
    """
    #if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    #pragma GCC target("avx2")
    #endif
    """

include "_dense.pxi"
include "_sparse.pxi"
