"""The house rules, enforced: the import graph of xlsx_tools, built with `ast` from the source.

Layers, lowest first (a module may import its own layer and the layers below it, never above):

    util < format < model < checks < read < write < collect < api < cli

`api` is the package's own `xlsx_tools/__init__.py` (the documented Python interface, which loads
its names lazily through PEP 562 `__getattr__`, so it imports nothing of ours at module level);
`xlsx_tools/__main__.py` belongs to cli. Further rules:

- format/ imports nothing of ours outside format/; util/ imports nothing of ours at all;
- no import cycle among module-level imports;
- no function-level (or class-level) import of our own modules: a cycle is not to be dodged that
  way. Lazy loading by name (`importlib.import_module` in the cli's lazy command group and in
  `xlsx_tools.__getattr__`) is not an import statement and is checked separately below: its
  targets must exist and sit in a lower layer;
- third-party: typer/rich/click only in cli/; openpyxl only in cli/demo/; xlsxwriter only in
  write/ and collect/; python-docx (`docx`) only in write/. These hold at every level, module or
  function. Imports under `if TYPE_CHECKING:` count like any other.

Reading a failure: each violation is one line "module:line rule", e.g.
    xlsx_tools.read.reader:20 up-layer import of xlsx_tools.write.template (read -> write)
Fix it by moving the code to the layer that owns it (see docs/architecture.md, "Where to change
what"), not by moving the import into a function.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "xlsx_tools"

LAYERS = ("util", "format", "model", "checks", "read", "write", "collect", "api", "cli")

# third-party top-level name -> the subpackage prefixes (below PACKAGE) allowed to import it
THIRD_PARTY = {
    "typer": ("cli",),
    "rich": ("cli",),
    "click": ("cli",),
    "openpyxl": ("cli.demo",),
    "xlsxwriter": ("write", "collect"),
    "docx": ("write",),
}

# Violations tolerated for a while (empty since issue 10 was done; it started with 90). The test
# fails on any violation NOT listed here, and ALSO on any entry listed here that no longer occurs:
# whoever fixes one deletes its line in the same commit. An entry reads "module:line rule"; the
# line number is for the reader, entries are matched on "module rule" (lines shift as files are
# edited). Prefer fixing a violation to listing it.
KNOWN: set[str] = set()


@dataclass(frozen=True)
class Violation:
    module: str
    line: int
    rule: str

    def __str__(self) -> str:
        return f"{self.module}:{self.line} {self.rule}"


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    line: int
    module_level: bool
    by_name: bool = False  # named by a string and loaded on demand (see _by_name)


def _modules(root: Path, package: str) -> dict[str, Path]:
    """Every module of the package: dotted name -> file (a package by its __init__.py)."""
    out = {}
    for path in sorted((root / package).rglob("*.py")):
        parts = list(path.relative_to(root).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out[".".join(parts)] = path
    return out


def _is_package(name: str, modules: dict[str, Path]) -> bool:
    return modules[name].name == "__init__.py"


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The longest prefix of a dotted name that is one of our modules."""
    parts = name.split(".")
    while parts:
        candidate = ".".join(parts)
        if candidate in modules:
            return candidate
        parts.pop()
    return None


def _imports(tree: ast.Module):
    """(node, module_level) for every import statement; module level means reachable from the
    module body through if/try/with/loops only, not through a def or a class."""
    found = []

    def walk(node: ast.AST, module_level: bool) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.Import | ast.ImportFrom):
                found.append((child, module_level))
            elif isinstance(
                child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda
            ):
                walk(child, False)
            else:
                walk(child, module_level)

    walk(tree, True)
    return found


def _layer(module: str, package: str) -> str:
    parts = module.split(".")
    if len(parts) == 1:
        return "api"
    if parts[1] == "__main__":
        return "cli"
    return parts[1]


def _within(module: str, package: str, prefixes: tuple[str, ...]) -> bool:
    rest = module[len(package) + 1 :] if module != package else ""
    return any(rest == p or rest.startswith(p + ".") for p in prefixes)


def scan(root: Path, package: str = PACKAGE) -> tuple[list[Edge], list[Violation]]:
    """The import graph of `root/package` and every violation of the house rules."""
    modules = _modules(root, package)
    edges: list[Edge] = []
    violations: list[Violation] = []
    for module, path in modules.items():
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        base = module if _is_package(module, modules) else module.rpartition(".")[0]
        for node, module_level in _imports(tree):
            names: list[str] = []  # fully qualified imported names
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            else:
                if node.level:
                    anchor = base.split(".")
                    anchor = anchor[: len(anchor) - (node.level - 1)]
                    prefix = ".".join(anchor + ([node.module] if node.module else []))
                else:
                    prefix = node.module or ""
                names = [f"{prefix}.{alias.name}" for alias in node.names]
                if not (prefix + ".").startswith(package + "."):
                    names = [prefix]
            for name in names:
                top = name.split(".")[0]
                if name == f"{package}.__version__":
                    continue  # the root package's metadata, loaded with every module anyway
                if top == package:
                    target = _resolve(name, modules)
                    if target is not None and target != module:
                        edges.append(Edge(module, target, node.lineno, module_level))
                elif top in THIRD_PARTY and not _within(module, package, THIRD_PARTY[top]):
                    where = " and ".join(p.replace(".", "/") + "/" for p in THIRD_PARTY[top])
                    violations.append(
                        Violation(module, node.lineno, f"{top} imported outside {where}")
                    )
        edges.extend(_by_name(module, tree, modules, package, violations))
    seen = set()
    for edge in edges:
        key = (edge.source, edge.target, edge.line)
        if key in seen:
            continue
        seen.add(key)
        violations.extend(_edge_violations(edge, package))
    violations.extend(_cycles([e for e in edges if e.module_level and not e.by_name]))
    return edges, sorted(set(violations), key=lambda v: (v.module, v.line, v.rule))


LAZY_CALLS = ("lazy_import", "import_module")


def _by_name(module, tree, modules, package, violations) -> list[Edge]:
    """Modules named by a string: the cli's lazy command table, `lazy_import(...)`,
    `importlib.import_module(...)`, the API's lazy names in xlsx_tools/__init__.py. Such a use
    is loaded on demand, so it is held to the layers but not counted as a function-level import
    or in cycles; a lazy call naming a module that does not exist is a violation."""
    out = []
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Constant)
            and isinstance(node.value, str)
            and node.value in modules
            and node.value != package
        ):
            out.append(Edge(module, node.value, node.lineno, True, by_name=True))
        elif (
            isinstance(node, ast.Call)
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and getattr(node.func, "attr", getattr(node.func, "id", None)) in LAZY_CALLS
            and node.args[0].value.startswith(package + ".")
            and node.args[0].value not in modules
        ):
            violations.append(
                Violation(
                    module, node.lineno, f"lazy import of missing module {node.args[0].value}"
                )
            )
    return out


def _edge_violations(edge: Edge, package: str) -> list[Violation]:
    out = []
    src, dst = _layer(edge.source, package), _layer(edge.target, package)
    if not edge.module_level:
        out.append(Violation(edge.source, edge.line, f"function-level import of {edge.target}"))
    if src not in LAYERS or dst not in LAYERS:
        unknown = src if src not in LAYERS else dst
        out.append(Violation(edge.source, edge.line, f"module in unknown layer {unknown!r}"))
    elif LAYERS.index(dst) > LAYERS.index(src):
        out.append(
            Violation(edge.source, edge.line, f"up-layer import of {edge.target} ({src} -> {dst})")
        )
    elif src == "util" and dst != "util":
        out.append(Violation(edge.source, edge.line, f"util/ imports {edge.target}"))
    elif src == "format" and dst != "format":
        out.append(
            Violation(edge.source, edge.line, f"format/ imports {edge.target} outside format/")
        )
    return out


def _cycles(edges: list[Edge]) -> list[Violation]:
    """One violation per strongly connected component: its shortest cycle through the smallest
    member, reported at that member's import line."""
    graph: dict[str, dict[str, int]] = {}
    for e in edges:
        graph.setdefault(e.source, {}).setdefault(e.target, e.line)
        graph.setdefault(e.target, {})
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    components: list[list[str]] = []

    def strongconnect(v: str) -> None:  # Tarjan; the graph has a few hundred nodes
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph[v]:
            if w not in index:
                strongconnect(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            components.append(component)

    for v in sorted(graph):
        if v not in index:
            strongconnect(v)
    out = []
    for component in components:
        if len(component) < 2:
            continue
        members = set(component)
        start = min(component)
        # breadth-first search inside the component back to start
        parent = {start: None}
        queue = [start]
        path = None
        while queue and path is None:
            nxt = []
            for v in queue:
                for w in sorted(graph[v]):
                    if w not in members:
                        continue
                    if w == start:
                        path = [v]
                        while parent[path[-1]] is not None:
                            path.append(parent[path[-1]])
                        path.reverse()
                        break
                    if w not in parent:
                        parent[w] = v
                        nxt.append(w)
                if path is not None:
                    break
            queue = nxt
        cycle = " -> ".join(path + [start])
        out.append(
            Violation(
                start, graph[start][path[1] if len(path) > 1 else start], f"import cycle {cycle}"
            )
        )
    return out


def _key(entry: str) -> str:
    """'module:line rule' -> 'module rule' (see KNOWN)."""
    return re.sub(r"^([\w.]+):\d+ ", r"\1 ", entry)


def _compare(found: list[Violation], known: set[str]) -> tuple[list[str], list[str]]:
    have = Counter(_key(str(v)) for v in found)
    want = Counter(_key(k) for k in known)
    new = [str(v) for v in found if have[_key(str(v))] > want[_key(str(v))]]
    gone = sorted(k for k in known if want[_key(k)] > have[_key(k)])
    return new, gone


def test_no_new_violations():
    _, found = scan(ROOT)
    new, _ = _compare(found, KNOWN)
    assert not new, "house rules broken (see tests/test_layers.py docstring):\n" + "\n".join(new)


def test_known_violations_still_occur():
    _, found = scan(ROOT)
    _, gone = _compare(found, KNOWN)
    assert not gone, (
        "fixed, so delete these lines from KNOWN in tests/test_layers.py:\n" + "\n".join(gone)
    )


def test_graph_sees_the_package():
    edges, _ = scan(ROOT)
    sources = {e.source for e in edges}
    assert "xlsx_tools.read.reader" in sources
    assert any(e.target == "xlsx_tools.format.spec" for e in edges)


def _plant(tmp_path: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = tmp_path / "pkg" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for directory in [tmp_path / "pkg", *(tmp_path / "pkg").rglob("*")]:
        if directory.is_dir() and not (directory / "__init__.py").exists():
            (directory / "__init__.py").write_text("", encoding="utf-8")
    return tmp_path


def test_planted_cycle_and_upward_import_are_caught(tmp_path):
    root = _plant(
        tmp_path,
        {
            "model/a.py": "from pkg.model import b\n",
            "model/b.py": "import os\n\nfrom . import a\n",
            "read/reader.py": "from ..write.template import X\n",
            "write/template.py": "X = 1\n",
            "format/spec.py": "from pkg.util import fsutil\n",
            "util/fsutil.py": "def f():\n    from pkg.model import a\n    import typer\n",
            "model/lazy.py": 'x = lazy_import("pkg.write.template")\ny = lazy_import("pkg.gone")\n',
        },
    )
    _, found = scan(root, "pkg")
    text = [str(v) for v in found]
    print("\n".join(text))  # the evidence, in the test's captured output
    assert "pkg.model.a:1 import cycle pkg.model.a -> pkg.model.b -> pkg.model.a" in text
    assert "pkg.read.reader:1 up-layer import of pkg.write.template (read -> write)" in text
    assert "pkg.format.spec:1 format/ imports pkg.util.fsutil outside format/" in text
    assert "pkg.util.fsutil:2 function-level import of pkg.model.a" in text
    assert "pkg.util.fsutil:2 up-layer import of pkg.model.a (util -> model)" in text
    assert "pkg.util.fsutil:3 typer imported outside cli/" in text
    assert "pkg.model.lazy:1 up-layer import of pkg.write.template (model -> write)" in text
    assert "pkg.model.lazy:2 lazy import of missing module pkg.gone" in text
    new, gone = _compare(found, set())
    assert len(new) == len(found) and not gone
    with pytest.raises(AssertionError, match="import cycle"):
        assert not new, "\n".join(new)


def test_a_clean_planted_tree_passes(tmp_path):
    root = _plant(
        tmp_path,
        {
            "model/a.py": "from pkg.format import spec\nfrom . import b\n",
            "model/b.py": "import os\n",
            "format/spec.py": "from . import numbers\n",
            "format/numbers.py": "",
            "cli/app.py": "import typer\n\nfrom pkg.collect import run\n",
            "collect/run.py": "import xlsxwriter\n\nfrom pkg.model import a\n",
        },
    )
    _, found = scan(root, "pkg")
    assert found == []


def test_known_entries_vanish_when_fixed():
    found = [Violation("m", 3, "up-layer import of x (read -> write)")]
    assert _compare(found, {"m:9 up-layer import of x (read -> write)"}) == ([], [])
    assert _compare([], {"m:9 up-layer import of x (read -> write)"}) == (
        [],
        ["m:9 up-layer import of x (read -> write)"],
    )
