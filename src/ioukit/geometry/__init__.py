"""Geometry shared by every ioukit module.

The compiled primitives live in :file:`_primitives.pxd`: inline C functions (one
overlap arithmetic per convention) that every Cython kernel ``cimport``\\ s, so that
no overlap formula is written twice. See docs/architecture.md, "Compiled kernels".
"""
