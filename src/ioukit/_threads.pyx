"""Thread count of ioukit's compiled kernels (OpenMP).

Kernels that split work across threads (``prange``) use OpenMP's current thread
count: all cores by default, ``OMP_NUM_THREADS`` at start-up, and at run time
:func:`set_num_threads` or ``threadpoolctl.threadpool_limits(n, user_api="openmp")``.
The setting is per calling thread, as in OpenMP (a Dask worker thread sets its own,
or inherits ``OMP_NUM_THREADS``).
"""

cdef extern from *:
    """
    #ifdef _OPENMP
    #include <omp.h>
    #define IOUKIT_HAVE_OPENMP 1
    #else
    static int omp_get_max_threads(void) { return 1; }
    static void omp_set_num_threads(int n) { (void)n; }
    #define IOUKIT_HAVE_OPENMP 0
    #endif
    """
    int omp_get_max_threads() nogil
    void omp_set_num_threads(int n) nogil
    int IOUKIT_HAVE_OPENMP

# Below this much work (RLE runs, JSON bytes) a kernel runs on the calling thread:
# waking the thread pool costs more than it saves (much more on a busy machine). Read by
# ioukit.rle's kernels, the segmentation parser (ioukit.io._jsonseg) and coco's mask IoU.
PARALLEL_MIN_WORK = 2_000_000
# The same for the evaluation engine's per-detection kernels (grouping, box IoU,
# matching, accumulation), counted in detections or IoU cells: a 100-image evaluation
# (~1k detections) runs on one thread, a val2017-scale one (~100k) on all of them.
PARALLEL_MIN_ITEMS = 1 << 15


def get_num_threads() -> int:
    """Threads a compiled kernel uses when it splits work (OpenMP's max threads).

    >>> get_num_threads() >= 1
    True
    """
    return omp_get_max_threads()


def set_num_threads(int n) -> None:
    """Use ``n`` threads (>= 1) in later kernel calls from this thread.

    >>> old = get_num_threads(); set_num_threads(1); get_num_threads()
    1
    >>> set_num_threads(old)
    """
    if n < 1:
        raise ValueError(f"set_num_threads: n must be >= 1, got {n}")
    omp_set_num_threads(n)


def has_openmp() -> bool:
    """Whether the kernels were built with OpenMP (False: every kernel runs serially).

    >>> isinstance(has_openmp(), bool)
    True
    """
    return bool(IOUKIT_HAVE_OPENMP)
