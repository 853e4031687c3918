"""The Open Images class hierarchy and the challenge's label expansion.

The hierarchy is the challenge's JSON tree (``bbox_labels_600_hierarchy.json``):
``{"LabelName": root, "Subcategory": [{"LabelName": ..., "Subcategory": [...]}, ...]}``.
The root is a virtual node and is never a class.

Expansion rules (TF object detection API,
``dataset_tools/oid_hierarchical_labels_expansion.py``):

- a box of class c is repeated for every ancestor of c (``expand_boxes_from_csv``);
- a positive image-level label (Confidence 1) is repeated for every ancestor,
  a negative one (Confidence 0) for every descendant (``expand_labels_from_csv``).

The ancestor and descendant lists are built exactly as the reference builds them, in
the same order and with the same repetitions: where a class appears at several places
of the tree, a list can name a class twice (a child of a class that appears twice
lists that class twice among its ancestors), and a box is then repeated twice for it.
``unique=True`` keeps one copy.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._lightclass import lightclass
from ..errors import DatasetError, InvalidParameterError

__all__ = ["Hierarchy", "load_hierarchy"]


@lightclass
class Hierarchy:
    """Ancestors and descendants of every class of an Open Images hierarchy.

    Attributes
    ----------
    ancestors : dict[str, list[str]]    class -> its ancestors (reference order)
    descendants : dict[str, list[str]]  class -> its descendants (reference order)

    Example
    -------
    >>> h = load_hierarchy({"LabelName": "root", "Subcategory": [
    ...     {"LabelName": "animal", "Subcategory": [{"LabelName": "dog"}]}]})
    >>> h.ancestors["dog"], h.descendants["animal"], h.ancestors["animal"]
    (['animal'], ['dog'], [])
    """

    ancestors: dict
    descendants: dict


def _walk(node: Mapping, depth: int, skip_root: bool) -> tuple[dict, dict, list]:
    # returns (descendants, ancestors, all nodes below and including this one); the
    # lists are merged by extension, as the reference does, so repetitions survive
    if not isinstance(node, Mapping) or "LabelName" not in node:
        raise DatasetError(f"hierarchy: a node at depth {depth} has no 'LabelName': {node!r}")
    if depth > 1000:
        raise DatasetError("hierarchy: nested more than 1000 levels deep (a cycle?)")
    below: list = []
    desc: dict = {}
    anc: dict = {}
    for child in node.get("Subcategory", ()) or ():
        c_desc, c_anc, c_below = _walk(child, depth + 1, False)
        for key, vals in c_desc.items():
            desc.setdefault(key, []).extend(vals)
        for key, vals in c_anc.items():
            anc.setdefault(key, []).extend(vals)
        below.extend(c_below)
    if not skip_root:
        name = str(node["LabelName"])
        desc[name] = below
        below = [name, *below]
        for key in anc:
            anc[key].append(name)
        anc[name] = []
    return desc, anc, below


def load_hierarchy(hierarchy: Any, *, unique: bool = False) -> Hierarchy:
    """Read a hierarchy: a JSON path, its loaded dict, or a :class:`Hierarchy`.

    Parameters
    ----------
    hierarchy : str | PathLike | dict | Hierarchy
    unique : bool
        Drop repeated ancestors / descendants (the reference keeps them, see the
        module docstring).

    Example
    -------
    >>> tree = {"LabelName": "r", "Subcategory": [
    ...     {"LabelName": "a", "Subcategory": [{"LabelName": "x"}]},
    ...     {"LabelName": "b", "Subcategory": [{"LabelName": "x"}]}]}
    >>> load_hierarchy(tree).ancestors["x"]  # two parents
    ['a', 'b']
    """
    if isinstance(hierarchy, Hierarchy):
        h = hierarchy
    else:
        if isinstance(hierarchy, (str, os.PathLike)):
            with open(hierarchy, encoding="utf-8") as f:
                hierarchy = json.load(f)
        if not isinstance(hierarchy, Mapping):
            raise InvalidParameterError(
                f"hierarchy must be a JSON path or dict, got {type(hierarchy).__name__}"
            )
        desc, anc, _ = _walk(hierarchy, 0, True)
        h = Hierarchy(ancestors=anc, descendants=desc)
    if unique:
        return Hierarchy(
            ancestors={k: list(dict.fromkeys(v)) for k, v in h.ancestors.items()},
            descendants={k: list(dict.fromkeys(v)) for k, v in h.descendants.items()},
        )
    return h


def expand_rows(
    labels: np.ndarray, relatives: Mapping[str, list], what: str, source: str
) -> tuple[np.ndarray, np.ndarray]:
    """Each row followed by one copy per relative: (row index, label) of the result.

    The rows stay in input order, each followed by its copies in the relatives'
    order (the reference writes the expanded CSV that way).

    >>> rows, lab = expand_rows(np.array(["dog", "cat"], object), {"dog": ["animal"],
    ...                         "cat": ["animal", "pet"]}, "boxes", "t")
    >>> rows.tolist(), lab.tolist()
    ([0, 0, 1, 1, 1], ['dog', 'animal', 'cat', 'animal', 'pet'])
    """
    values = labels.tolist()
    index = {name: k for k, name in enumerate(dict.fromkeys(values))}
    codes = np.fromiter(map(index.__getitem__, values), np.int64, count=len(values))
    lists = []
    for k, name in enumerate(index):
        if name not in relatives:
            row = int(np.flatnonzero(codes == k)[0])
            raise DatasetError(
                f"{source}: {what} row {row}: LabelName {name!r} is not in the hierarchy"
            )
        lists.append([name, *relatives[name]])
    sizes = np.array([len(x) for x in lists], dtype=np.int64)
    table = np.array([v for x in lists for v in x], dtype=object)
    first = np.concatenate(([0], np.cumsum(sizes)[:-1])).astype(np.int64)
    counts = sizes[codes]
    rows = np.repeat(np.arange(len(labels), dtype=np.int64), counts)
    # the copy number of each output row within its input row
    copy = np.arange(rows.size) - np.repeat(np.cumsum(counts) - counts, counts)
    return rows, table[first[codes][rows] + copy] if rows.size else np.zeros(0, object)
