# cython: language_level=3, boundscheck=False, wraparound=False
"""The compiled build's composition arithmetic (the Python source's is mixing.py): for each entry
the operations numpy does there, in the same order, each rounded as numpy rounds it (the build
allows no fused multiply-add). It reads and writes the arrays' memory through numpy's C
interface: a typed memoryview's checks would cost more than the loops."""
cimport numpy as cnp

cnp.import_array()

__all__ = ["mixed", "weighted_sum", "stamped"]


def mixed(cnp.ndarray old, cnp.ndarray new, double w):
    cdef Py_ssize_t i, size = cnp.PyArray_SIZE(old)
    if cnp.PyArray_SIZE(new) != size:
        raise ValueError(f"compositions of {size} and {cnp.PyArray_SIZE(new)} entries cannot be mixed")
    _check(old, size, "mixed")
    _check(new, size, "mixed")
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(old), cnp.NPY_DOUBLE, 0)
    cdef const double* o = <const double*> cnp.PyArray_DATA(old)
    cdef const double* n = <const double*> cnp.PyArray_DATA(new)
    cdef double* r = <double*> cnp.PyArray_DATA(out)
    for i in range(size):
        r[i] = (n[i] - o[i]) * w + o[i]
    return out


cdef inline void _check(cnp.ndarray a, Py_ssize_t size, str what) except *:
    if not (cnp.PyArray_NDIM(a) == 1 and cnp.PyArray_TYPE(a) == cnp.NPY_DOUBLE and cnp.PyArray_IS_C_CONTIGUOUS(a)):
        raise TypeError(f"{what}: a contiguous one-dimensional float64 array expected")
    if cnp.PyArray_SIZE(a) != size:
        raise ValueError(f"{what}: {cnp.PyArray_SIZE(a)} entries, expected {size}")


def weighted_sum(vectors, weights):
    cdef Py_ssize_t i, j, size, count = len(vectors)
    if len(weights) != count or count == 0:
        raise ValueError(f"{count} vectors and {len(weights)} weights")
    cdef cnp.ndarray v = vectors[0]
    size = cnp.PyArray_SIZE(v)
    _check(v, size, "weighted_sum")
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(v), cnp.NPY_DOUBLE, 0)
    cdef double* r = <double*> cnp.PyArray_DATA(out)
    cdef const double* x = <const double*> cnp.PyArray_DATA(v)
    cdef double w = weights[0]
    for i in range(size):
        r[i] = x[i] * w
    for j in range(1, count):
        v = vectors[j]
        _check(v, size, "weighted_sum")
        x = <const double*> cnp.PyArray_DATA(v)
        w = weights[j]
        for i in range(size):
            r[i] += x[i] * w
    return out


def stamped(cnp.ndarray vec, cnp.ndarray src, cnp.ndarray keep):
    cdef Py_ssize_t i, size = cnp.PyArray_SIZE(keep), n = cnp.PyArray_SIZE(vec)
    _check(keep, size, "stamped")
    if not (cnp.PyArray_NDIM(src) == 1 and cnp.PyArray_TYPE(src) == cnp.NPY_INTP and cnp.PyArray_IS_C_CONTIGUOUS(src)
            and cnp.PyArray_SIZE(src) == size):
        raise TypeError(f"stamped: source indices are a contiguous array of {size} intp entries")
    _check(vec, n, "stamped")
    cdef const cnp.npy_intp* s = <const cnp.npy_intp*> cnp.PyArray_DATA(src)
    cdef const double* x = <const double*> cnp.PyArray_DATA(vec)
    cdef const double* k = <const double*> cnp.PyArray_DATA(keep)
    cdef cnp.ndarray out = cnp.PyArray_EMPTY(1, cnp.PyArray_DIMS(keep), cnp.NPY_DOUBLE, 0)
    cdef double* r = <double*> cnp.PyArray_DATA(out)
    for i in range(size):
        if s[i] < 0 or s[i] >= n:
            raise IndexError(f"stamped: index {s[i]} out of a vector of {n}")
        r[i] = x[s[i]] * k[i]
    return out
