"""Reading and writing datasets and results (JSON scanning, columnar files).

The JSON fast path lives in the private module :mod:`ioukit.io._jsonscan`, which
the COCO loaders use; see docs/io.md.
"""
