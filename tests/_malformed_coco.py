"""A corpus of malformed (and unusual but valid) COCO files for ``check`` vs ``eval``.

Each case is (ground truth, results, IoU type, whether evaluation should accept it). A
file is a Python object (written with ``json.dumps``) or raw ``bytes``. ``valid`` is
the judgement written down by hand from pycocotools' rules (``coco.py`` / ``cocoeval.py``)
and the issue (issue 21), not from ioukit's output: pycocotools evaluates what ioukit
accepts; what pycocotools crashes on or silently misreads is refused.
"""

from __future__ import annotations

import copy
import json
from typing import Any, NamedTuple


class Case(NamedTuple):
    gt: Any
    dt: Any
    iou_type: str
    valid: bool


SQUARE = [[10.0, 10.0, 60.0, 10.0, 60.0, 60.0, 10.0, 60.0]]


def clean_gt() -> dict:
    return {
        "info": {"description": "corpus"},
        "images": [
            {"id": 1, "width": 64, "height": 48, "file_name": "a.jpg"},
            {"id": 2, "width": 32, "height": 32},
        ],
        "categories": [{"id": 1, "name": "cat"}, {"id": 2, "name": "dog"}],
        "annotations": [
            {
                "id": 1,
                "image_id": 1,
                "category_id": 1,
                "bbox": [10, 10, 50, 30],
                "area": 1500,
                "iscrowd": 0,
                "segmentation": [[10, 10, 60, 10, 60, 40, 10, 40]],
            },
            {
                "id": 2,
                "image_id": 2,
                "category_id": 2,
                "bbox": [0, 0, 20, 20],
                "area": 400,
                "iscrowd": 0,
                "segmentation": [[0, 0, 20, 0, 20, 20, 0, 20]],
            },
        ],
    }


def clean_dt() -> list:
    return [
        {
            "image_id": 1,
            "category_id": 1,
            "bbox": [12, 10, 48, 30],
            "score": 0.9,
            "segmentation": [[12, 10, 60, 10, 60, 40, 12, 40]],
        },
        {
            "image_id": 2,
            "category_id": 2,
            "bbox": [1, 1, 18, 18],
            "score": 0.7,
            "segmentation": [[1, 1, 19, 1, 19, 19, 1, 19]],
        },
    ]


def _gt(edit) -> dict:
    g = clean_gt()
    edit(g)
    return g


def _dt(edit) -> list:
    d = clean_dt()
    edit(d)
    return d


def _set(obj: dict, **kv) -> None:
    obj.update(kv)


def _pop(obj: dict, *keys) -> None:
    for k in keys:
        obj.pop(k, None)


def _rle_dt(counts: Any, size: Any = (48, 64), drop_bbox: bool = True) -> list:
    d = clean_dt()
    d[0]["segmentation"] = {"size": list(size), "counts": counts}
    if drop_bbox:
        for r in d:
            r.pop("bbox")
        d[1]["segmentation"] = {"size": [32, 32], "counts": [33, 18, 14, 18, 14, 18, 909]}
    return d


DEEP = b"[" * 100_000 + b"]" * 100_000


def _with_deep_key(obj: Any, where: str) -> bytes:
    """``obj`` as JSON with a key nested 100 000 levels deep added at ``where``."""
    text = json.dumps(obj).encode()
    if where == "root":
        return text[:-1] + b', "extra": ' + DEEP + b"}"
    # into the first record: after its opening brace
    key = b'"image_id": 1,' if where == "result" else b'"id": 1, "image_id"'
    i = text.index(key)
    return text[:i] + b'"deep": ' + DEEP + b", " + text[i:]


def _bad_utf8_ignored(obj: Any) -> bytes:
    text = json.dumps(obj).encode()
    return text.replace(b'"description": "corpus"', b'"description": "caf\xe9 \xff"')


def _bad_utf8_name() -> bytes:
    text = json.dumps(clean_gt()).encode()
    return text.replace(b'"name": "cat"', b'"name": "c\xffat"')


def cases() -> dict[str, Case]:
    """name -> Case: ~50 files, each breaking one rule (or valid but unusual)."""
    G, D = clean_gt, clean_dt
    c: dict[str, Case] = {}

    def add(name: str, gt: Any, dt: Any, valid: bool, iou: str = "bbox") -> None:
        c[name] = Case(gt, dt, iou, valid)

    # --- valid references
    add("clean-bbox", G(), D(), True)
    add("clean-segm", G(), D(), True, "segm")
    add("gt-no-annotations-key", _gt(lambda g: g.pop("annotations")), [], True)
    add("deep-extra-key-gt", _with_deep_key(G(), "root"), D(), True)
    add("deep-extra-key-result", G(), _with_deep_key(D(), "result"), True)
    add("deep-extra-key-annotation", _with_deep_key(G(), "annotation"), D(), True)
    add("bad-utf8-ignored-key", _bad_utf8_ignored(G()), D(), True)
    add("id-max-int64", _gt(lambda g: _set(g["annotations"][0], id=2**63 - 1)), D(), True)
    add("iscrowd-bool", _gt(lambda g: _set(g["annotations"][0], iscrowd=False)), D(), True)
    add("results-empty", G(), [], True)
    add(
        "polygon-results-gt-sizes",
        G(),
        _dt(lambda d: [r.pop("bbox") for r in d]),
        True,
        "segm",
    )
    add(
        "segm-bad-polygon-bbox-mode",  # boxes are evaluated, the polygon is not read
        _gt(lambda g: _set(g["annotations"][0], segmentation=[[1, 2, 3]])),
        D(),
        True,
    )
    add("huge-polygon-clipped", _gt(lambda g: _set(g["annotations"][0],
        segmentation=[[10, 10, 5e9, 10, 60, 40, 10, 40]])), D(), True, "segm")  # fmt: skip

    # --- results file structure
    add("results-null", G(), None, False)
    add("results-annotations-object", G(), {"annotations": D()}, False)
    add("results-number", G(), 3, False)
    add("result-not-object", G(), _dt(lambda d: d.append(7)), False)
    add("result-no-score", G(), _dt(lambda d: _pop(d[1], "score")), False)
    add("result-no-bbox-no-segm", G(), _dt(lambda d: _pop(d[1], "bbox", "segmentation")), False)
    add("result-score-string", G(), _dt(lambda d: _set(d[0], score="0.9")), False)
    add("result-score-nan", G(), json.dumps(D()).replace("0.7", "NaN").encode(), False)
    add("result-image-id-float", G(), _dt(lambda d: _set(d[0], image_id=1.0)), False)
    add("result-image-id-2e64", G(), _dt(lambda d: _set(d[0], image_id=2**64)), False)
    add("result-image-id-2e63", G(), _dt(lambda d: _set(d[0], image_id=2**63)), False)
    add("result-unknown-image", G(), _dt(lambda d: _set(d[0], image_id=9)), False)
    add("result-unknown-category", G(), _dt(lambda d: _set(d[0], category_id=9)), False)
    add("result-bbox-short", G(), _dt(lambda d: _set(d[0], bbox=[1, 2, 3])), False)
    add("result-bbox-negative", G(), _dt(lambda d: _set(d[0], bbox=[1, 2, -3, 4])), False)
    add("result-bbox-string", G(), _dt(lambda d: _set(d[0], bbox="1,2,3,4")), False)

    # --- ground truth structure and ids
    add("gt-list", [], D(), False)
    add("gt-no-images", _gt(lambda g: g.pop("images")), D(), False)
    add("gt-no-categories", _gt(lambda g: g.pop("categories")), D(), False)
    add("gt-images-object", _gt(lambda g: _set(g, images={"id": 1})), D(), False)
    add("gt-image-no-id", _gt(lambda g: _pop(g["images"][1], "id")), D(), False)
    add("gt-image-id-string", _gt(lambda g: _set(g["images"][1], id="2")), D(), False)
    add("gt-ann-id-float", _gt(lambda g: _set(g["annotations"][0], id=42.0)), D(), False)
    add("gt-image-id-float", _gt(lambda g: _set(g["images"][0], id=1.0)), D(), False)
    add("gt-ann-id-2e63", _gt(lambda g: _set(g["annotations"][0], id=2**63)), D(), False)
    add("gt-ann-id-neg-2e63-1", _gt(lambda g: _set(g["annotations"][0], id=-(2**63) - 1)), D(),
        False)  # fmt: skip
    add("gt-iscrowd-string", _gt(lambda g: _set(g["annotations"][0], iscrowd="0")), D(), False)
    add("gt-iscrowd-null", _gt(lambda g: _set(g["annotations"][0], iscrowd=None)), D(), False)
    add("gt-iscrowd-missing", _gt(lambda g: _pop(g["annotations"][0], "iscrowd")), D(), False)
    add("gt-no-bbox", _gt(lambda g: _pop(g["annotations"][0], "bbox")), D(), False)
    add("gt-no-area", _gt(lambda g: _pop(g["annotations"][1], "area")), D(), False)
    add("gt-area-string", _gt(lambda g: _set(g["annotations"][1], area="4")), D(), False)
    add("gt-duplicate-ann-id", _gt(lambda g: _set(g["annotations"][1], id=1)), D(), False)
    add("gt-duplicate-image-id", _gt(lambda g: _set(g["images"][1], id=1)), D(), False)
    add("gt-unknown-image", _gt(lambda g: _set(g["annotations"][1], image_id=5)), D(), False)
    add("gt-bbox-nan", json.dumps(G()).replace("[0, 0, 20, 20]", "[0, 0, NaN, 20]").encode(), D(),
        False)  # fmt: skip
    add("gt-width-string", _gt(lambda g: _set(g["images"][0], width="64")), D(), False)
    add("gt-category-name-number", _gt(lambda g: _set(g["categories"][0], name=5)), D(), False)
    add("gt-bad-utf8-name", _bad_utf8_name(), D(), False)
    add("gt-syntax-error", b'{"images": [1, 2,]}', D(), False)
    add("gt-truncated", json.dumps(G()).encode()[:-7], D(), False)
    add("gt-empty-file", b"", D(), False)

    # --- segmentations (segm evaluation reads them)
    def seg(i: int, s: Any):
        return _gt(lambda g: _set(g["annotations"][i], segmentation=s))

    add("segm-gt-missing", _gt(lambda g: _pop(g["annotations"][0], "segmentation")), D(), False,
        "segm")  # fmt: skip
    add("segm-gt-polygon-short", seg(0, [[1, 2, 3, 4]]), D(), False, "segm")
    add("segm-gt-polygon-odd", seg(0, [[1, 2, 3, 4, 5, 6, 7]]), D(), False, "segm")
    add("segm-gt-polygon-nan", json.dumps(G()).replace("[[0, 0, 20, 0,", "[[NaN, 0, 20, 0,")
        .encode(), D(), False, "segm")  # fmt: skip
    add("segm-gt-polygon-string", seg(0, [["a", 1, 2, 3, 4, 5]]), D(), False, "segm")
    add("segm-gt-rle-corrupt", seg(0, {"size": [48, 64], "counts": "\x7f\x7f!!"}), D(), False,
        "segm")  # fmt: skip
    add("segm-gt-rle-truncated", seg(0, {"size": [48, 64], "counts": [10, 20]}), D(), False,
        "segm")  # fmt: skip
    add("segm-gt-rle-size-mismatch", seg(0, {"size": [10, 10], "counts": [100]}), D(), False,
        "segm")  # fmt: skip
    add("segm-gt-rle-size-strings", seg(0, {"size": ["48", "64"], "counts": [3072]}), D(), False,
        "segm")  # fmt: skip
    add("segm-gt-rle-counts-null", seg(0, {"size": [48, 64], "counts": None}), D(), False, "segm")
    add("segm-dt-rle-truncated", G(), _rle_dt([10, 20]), False, "segm")
    add("segm-dt-rle-size-mismatch", G(), _rle_dt([100], size=(10, 10)), False, "segm")
    add("segm-dt-polygon-odd", G(), _dt(lambda d: _set(d[0], segmentation=[[1, 2, 3, 4, 5, 6,
        7]])), False, "segm")  # fmt: skip
    add("bbox-eval-segm-only-results-corrupt", G(), _rle_dt([10, 20]), False)
    add("bbox-eval-segm-only-results", G(), _rle_dt([3072]), True)
    add("box-mode-later-result-segm-only", G(), _dt(lambda d: _pop(d[1], "bbox")), False)
    add("box-mode-later-empty-bbox", G(), _dt(lambda d: _set(d[1], bbox=[])), False)
    add("segm-mode-later-result-bbox-only", G(), _dt(lambda d: [_pop(d[0], "bbox"),
        _pop(d[1], "segmentation")]), False, "segm")  # fmt: skip
    add("deep-beyond-scanner-limit", b'{"x": ' + b"[" * (2**20 + 2) + b"]" * (2**20 + 2) + b", "
        + json.dumps(G()).encode()[1:], D(), False)  # fmt: skip
    add("segm-gt-negative-height", _gt(lambda g: _set(g["images"][1], height=-32)), D(), False,
        "segm")  # fmt: skip
    add(
        "segm-gt-no-image-size",
        _gt(lambda g: [_pop(im, "width", "height") for im in g["images"]]),
        D(),
        False,
        "segm",
    )
    return c


def write(case: Case, tmp_path: Any, name: str) -> tuple[str, str]:
    """The case's two files under ``tmp_path``; returns their paths."""
    out = []
    for kind, obj in (("gt", case.gt), ("dt", case.dt)):
        p = tmp_path / f"{name}-{kind}.json"
        p.write_bytes(obj if isinstance(obj, bytes) else json.dumps(copy.deepcopy(obj)).encode())
        out.append(str(p))
    return out[0], out[1]
