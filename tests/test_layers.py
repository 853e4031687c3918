"""Imports only point down: no ioukit module imports one of a higher layer.

The layer map below is the one place the layers are written down in code; the
diagram in docs/architecture.md ("Layers") mirrors it. Every module under
``src/ioukit`` is read without importing it: ``.py`` files with :mod:`ast` (imports
anywhere, including inside functions, and ``importlib.import_module("...")`` calls
with a literal name), ``.pyx`` / ``.pxd`` / ``.pxi`` files line by line (``import``,
``cimport``, ``from ... import`` / ``cimport``). Same-layer imports are allowed.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "ioukit"

#: Layers, lowest first. A module may import modules of its own layer or lower ones.
LAYERS = ("base", "geometry", "losses_nms", "matching", "metrics", "evaluation", "io", "interfaces")

#: Module (or package prefix) -> layer; the longest matching prefix decides.
LAYER_OF = {
    # base: shared by everything, imports nothing above it
    "ioukit.errors": "base",
    "ioukit._backend": "base",
    "ioukit._threads": "base",
    "ioukit._deprecation": "base",  # renamed arguments (deprecated aliases)
    "ioukit._lightclass": "base",  # dataclasses without code generation (start-up)
    "ioukit._lossrules": "base",  # the pair / weight / reduction rules of every loss
    "ioukit._concurrent": "base",  # run a few callables on plain threads (the loaders)
    "ioukit.geometry._primitives": "base",  # the one overlap arithmetic (.pxd)
    "ioukit.geometry._runs": "base",  # run-length walks (.pxd)
    # the JSON byte scanner and segmentation parser: the bottom of io (DESIGN.md)
    "ioukit.io._jsonkernel": "base",
    "ioukit.io._jsonscan": "base",
    "ioukit.io._jsonseg": "base",
    "ioukit.io._segkernel": "base",
    # geometry: one module per shape
    "ioukit.geometry": "geometry",
    "ioukit.boxes": "geometry",
    "ioukit.rle": "geometry",
    "ioukit.masks": "geometry",
    "ioukit.sets": "geometry",
    "ioukit.rotated": "geometry",  # rotated boxes (issue 15)
    "ioukit.polygons": "geometry",  # simple polygons, periodic domains (issue 15)
    "ioukit.intervals": "geometry",  # temporal intervals (issue 16)
    "ioukit.boxes3d": "geometry",  # 3-D boxes (issue 16)
    # built on geometry, used by training and post-processing code
    "ioukit.losses": "losses_nms",
    "ioukit.nms": "losses_nms",
    "ioukit.assign": "losses_nms",  # training-time assignment (issue 20)
    # the evaluation engine, bottom up
    "ioukit.matching": "matching",
    "ioukit.metrics": "metrics",
    "ioukit.coco": "evaluation",
    "ioukit.voc": "evaluation",
    "ioukit.lvis": "evaluation",
    "ioukit.dota": "evaluation",  # DOTA (issue 15)
    "ioukit.activitynet": "evaluation",  # ActivityNet / THUMOS temporal AP (issue 16)
    "ioukit.kitti": "evaluation",  # KITTI 3-D / BEV AP (issue 16)
    "ioukit.semantic": "evaluation",  # confusion matrix, mIoU (issue 17)
    "ioukit.panoptic": "evaluation",  # panoptic quality (issue 17)
    "ioukit.tracking": "evaluation",  # association, CLEAR / Identity / HOTA (issue 18)
    "ioukit.tide": "evaluation",  # TIDE errors, calibration, per-image diagnostics (issue 19)
    "ioukit.openimages": "evaluation",  # Open Images challenge detection AP (issue 19)
    "ioukit.occlusion": "evaluation",  # visible fraction, amodal IoU bound, AP by occlusion
    "ioukit.evaluation": "evaluation",
    "ioukit.synthetic": "evaluation",  # COCO-shaped test data (imports no ioukit module)
    # file formats that produce evaluation tables, and the validation of inputs
    "ioukit.io": "io",
    "ioukit.check": "io",
    # consumers of the public engine
    "ioukit.report": "interfaces",
    "ioukit.cli": "interfaces",
    "ioukit.distributed": "interfaces",
    # The package root is the facade: ``ioukit.<name>`` imports any public package on
    # first attribute access (PEP 562), so no lower module may use it. Its import-time
    # code is checked on its own: see test_package_inits_stay_at_their_lowest_module.
    "ioukit": "interfaces",
}

#: (importer, imported) pairs allowed to point up, each with its reason. Keep it short.
ALLOWED_UPWARD: dict[tuple[str, str], str] = {
    # CocoResult.report(path) / .plot_pr() were public before the layers were enforced;
    # they are deprecated aliases (DeprecationWarning) of ioukit.report.write_html(result,
    # path) / ioukit.report.plot_pr(result), imported inside the alias only. Remove the
    # aliases and this entry together.
    ("ioukit.coco.result", "ioukit.report"): "deprecated aliases CocoResult.report/.plot_pr",
}

_PYX_IMPORT = re.compile(
    r"^\s*(?:from\s+(?P<src>[.\w]+)\s+c?import\s+(?P<names>.*)|c?import\s+(?P<mods>[.\w, ]+))"
)


def _module_name(path: Path) -> str:
    rel = path.relative_to(SRC).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _is_package(path: Path) -> bool:
    return path.name.startswith("__init__.")


def _source_files() -> list[Path]:
    exts = {".py", ".pyx", ".pxd", ".pxi"}
    return sorted(p for p in PKG.rglob("*") if p.suffix in exts and p.is_file())


def _known_modules() -> set[str]:
    return {_module_name(p) for p in _source_files()}


KNOWN = _known_modules()


def _resolve(importer: str, is_pkg: bool, module: str | None, level: int) -> str:
    """The absolute dotted name of ``from <level dots><module> import ...``."""
    if level == 0:
        return module or ""
    base = importer.split(".")
    if not is_pkg:
        base = base[:-1]
    if level > 1:
        base = base[: -(level - 1)]
    return ".".join(base + ([module] if module else []))


def _targets(base: str, names: list[str]) -> list[str]:
    # "from pkg import sub" imports the submodule pkg.sub when there is one
    subs = [f"{base}.{n}" for n in names if f"{base}.{n}" in KNOWN]
    return subs if subs else [base]


def _walk(node: ast.AST, in_functions: bool):
    """ast.walk, optionally without descending into function bodies."""
    todo = [node]
    while todo:
        n = todo.pop()
        yield n
        if not in_functions and isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            continue
        todo.extend(reversed(list(ast.iter_child_nodes(n))))


def _py_imports(
    text: str, me: str, is_pkg: bool, in_functions: bool = True
) -> list[tuple[int, str]]:
    tree = ast.parse(text)
    out = []
    for node in _walk(tree, in_functions):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = _resolve(me, is_pkg, node.module, node.level)
            out += [(node.lineno, t) for t in _targets(base, [a.name for a in node.names])]
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "import_module"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            name = node.args[0].value
            if name.startswith("."):
                # relative to the ``package`` argument: a literal, or __name__ (this module)
                pkg = node.args[1] if len(node.args) > 1 else None
                if isinstance(pkg, ast.Constant) and isinstance(pkg.value, str):
                    anchor = pkg.value
                elif isinstance(pkg, ast.Name) and pkg.id == "__name__":
                    anchor = me
                else:
                    continue
                level = len(name) - len(name.lstrip("."))
                name = _resolve(anchor, True, name[level:], level)
            out.append((node.lineno, name))
    return out


def _pyx_imports(text: str, me: str, is_pkg: bool) -> list[tuple[int, str]]:
    out = []
    for lineno, line in enumerate(text.splitlines(), 1):
        m = _PYX_IMPORT.match(line)
        if not m:
            continue
        if m.group("src"):
            src = m.group("src")
            level = len(src) - len(src.lstrip("."))
            base = _resolve(me, is_pkg, src[level:] or None, level)
            names = [n.split(" as ")[0].strip(" ()\\") for n in m.group("names").split(",")]
            out += [(lineno, t) for t in _targets(base, [n for n in names if n])]
        else:
            out += [(lineno, n.split(" as ")[0].strip()) for n in m.group("mods").split(",")]
    return out


def imports_of(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module) of every ioukit import in a source file."""
    parse = _py_imports if path.suffix == ".py" else _pyx_imports
    found = parse(path.read_text(encoding="utf-8"), _module_name(path), _is_package(path))
    return [(n, t) for n, t in found if t == "ioukit" or t.startswith("ioukit.")]


def layer_of(module: str) -> str:
    """The layer of a dotted module name (longest prefix in :data:`LAYER_OF`; the root
    entry covers the package's own __init__ only, so a new top-level module needs one)."""
    if module == "ioukit":
        return LAYER_OF["ioukit"]
    parts = module.split(".")
    for i in range(len(parts), 1, -1):
        key = ".".join(parts[:i])
        if key in LAYER_OF:
            return LAYER_OF[key]
    raise KeyError(module)


def _rank(module: str) -> int:
    return LAYERS.index(layer_of(module))


def test_every_layer_name_is_known():
    assert set(LAYER_OF.values()) <= set(LAYERS)


def test_every_module_has_a_layer():
    # a new top-level module must be placed in the map (and in docs/architecture.md)
    missing = []
    for m in sorted(KNOWN):
        try:
            layer_of(m)
        except KeyError:
            missing.append(m)
    assert not missing, f"modules without a layer in LAYER_OF: {missing}"


def test_the_parser_sees_every_kind_of_import():
    # a check of the checker: imports in functions, relative ones, import_module, cimport
    code = (
        "import ioukit.boxes\n"
        "from ..report import write_html\n"
        "def f():\n"
        "    from .. import cli\n"
        "    import importlib\n"
        "    importlib.import_module('ioukit.distributed')\n"
        "    importlib.import_module('.metrics', 'ioukit')\n"
    )
    got = [t for _, t in _py_imports(code, "ioukit.coco._probe", False) if t != "importlib"]
    assert got == [
        "ioukit.boxes",
        "ioukit.report",
        "ioukit.cli",
        "ioukit.distributed",
        "ioukit.metrics",
    ]
    top = [t for _, t in _py_imports(code, "ioukit.coco._probe", False, in_functions=False)]
    assert top == ["ioukit.boxes", "ioukit.report"]
    pyx = (
        "from ioukit.geometry._primitives cimport (\n    box_iou_tv,\n)\n"
        "cimport ioukit.rle._kernels\nfrom ioukit.rle import _kernels\n"
        "from . import _codec\n"
    )
    got = [t for _, t in _pyx_imports(pyx, "ioukit.rle._probe", False)]
    assert got == [
        "ioukit.geometry._primitives",
        "ioukit.rle._kernels",
        "ioukit.rle._kernels",
        "ioukit.rle._codec",
    ]


@pytest.mark.parametrize("path", _source_files(), ids=lambda p: str(p.relative_to(SRC)))
def test_imports_point_down(path):
    me = _module_name(path)
    bad = []
    for lineno, target in imports_of(path):
        if target not in KNOWN and not any(k.startswith(target + ".") for k in KNOWN):
            continue  # not a module of this tree (e.g. an optional one, or a name)
        if _rank(target) > _rank(me) and (me, target) not in ALLOWED_UPWARD:
            bad.append(f"line {lineno}: {target} ({layer_of(target)})")
    assert not bad, f"{me} ({layer_of(me)}) imports a higher layer:\n  " + "\n  ".join(bad)


def _top_level_imports(path: Path) -> list[tuple[int, str]]:
    """ioukit imports an __init__ runs when imported (not those inside functions)."""
    text = path.read_text(encoding="utf-8")
    found = _py_imports(text, _module_name(path), True, in_functions=False)
    return [(n, t) for n, t in found if t == "ioukit" or t.startswith("ioukit.")]


def test_package_inits_stay_at_their_lowest_module():
    # Importing any submodule runs its package's __init__ first (its module-level code):
    # that code may import nothing above the lowest layer among the package's modules.
    bad = []
    for init in sorted(PKG.rglob("__init__.py")):
        pkg = _module_name(init)
        lowest = min(_rank(m) for m in KNOWN if m == pkg or m.startswith(pkg + "."))
        for lineno, target in _top_level_imports(init):
            if _rank(target) > lowest:
                bad.append(f"{pkg} line {lineno}: {target} ({layer_of(target)})")
    assert not bad, "package __init__ imports above its lowest module:\n  " + "\n  ".join(bad)


def test_allowlist_entries_are_real():
    # an allowlisted upward import that no longer exists must leave the list
    for (src, dst), reason in ALLOWED_UPWARD.items():
        assert reason.strip(), (src, dst)
        paths = [p for p in _source_files() if _module_name(p) == src]
        assert paths, src
        assert any(t == dst for p in paths for _, t in imports_of(p)), (src, dst)
