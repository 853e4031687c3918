# distutils: extra_compile_args = -fno-trapping-math
"""Compiled kernels of ``ioukit.boxes``: dense pairwise measures and the sparse IoU sweep.

Dense (:func:`pairwise_overlap`, :func:`pairwise_measure`, called by
``ioukit.boxes._measures``): one pass over the N x M output; each element is computed
from the two boxes' coordinates in registers, so no N x M temporary exists for the
intermediate steps (intersection, union, enclosing box, ...), unlike a broadcast
implementation. IoU and IoA (the hot path) run in the inputs' dtype, float32 or
float64, in a unit-stride inner loop over b's coordinate columns. The other measures
run in float64 (float32 results are rounded from them by the caller); their formulas
are the scalar transcriptions of ``ioukit.boxes._terms`` (same guards, same ``eps``
thresholds; the tests check both agree). The papers are named there.

Sparse (:func:`grid_sort`, :func:`iou_pairs_sweep`, called by
``ioukit.boxes._pairs``): b's top-left corners bucketed in a uniform grid, then every
box of a visits the cells under its window (derivation in ``_pairs``) and keeps the
pairs with IoU >= t, with the same per-pair IoU as the dense kernel, so both give the
same bits.

The IoU/IoA arithmetic is ``ioukit.geometry._primitives``' torchvision convention.
Large problems split rows across OpenMP threads (``prange``); small ones run on the
calling thread, where waking the thread pool would cost more than the work.

The kernels live in ``_dense.pxi`` and ``_sparse.pxi``: this module builds them for the
CPU baseline, ``_kernels_avx2`` a second time for AVX2 CPUs (:func:`cpu_has_avx2` says
whether this CPU is one; ``ioukit.boxes._measures`` picks the module).

Built with ``-fno-trapping-math`` (the ``distutils`` line above): it lets the compiler
evaluate a guarded division (``inter / union if union > eps else 0``) on every lane and
select, which is what vectorises the IoU loops. Values are unchanged: the option only
says that floating-point exceptions are not trapped, as they never are in NumPy.
"""

# the dense kernels: pairwise_overlap, pairwise_measure, MODES, ALPHA_BASES
include "_dense.pxi"
# the sparse sweep: grid_sort, iou_pairs_sweep
include "_sparse.pxi"

cdef extern from *:
    """
    static int ioukit_cpu_has_avx2(void) {
    #if (defined(__GNUC__) || defined(__clang__)) && defined(__x86_64__)
        __builtin_cpu_init();
        return __builtin_cpu_supports("avx2") != 0;
    #else
        return 0;
    #endif
    }
    """
    int ioukit_cpu_has_avx2() nogil

__all__ = [
    "cpu_has_avx2",
    "MODES",
    "ALPHA_BASES",
    "pairwise_overlap",
    "pairwise_measure",
    "grid_sort",
    "iou_pairs_sweep",
]


def cpu_has_avx2():
    """Whether this CPU (and its OS) runs AVX2 code: ``_kernels_avx2`` may be imported.

    >>> isinstance(cpu_has_avx2(), bool)
    True
    """
    return bool(ioukit_cpu_has_avx2())
