"""Dependencies point down the layers: no module imports from a higher layer (every import
counted, including those inside functions and under TYPE_CHECKING).

The order (lowest first) is DESIGN.md's with two corrections the code showed to be better:
`registry` (the model store: versions, stages, lineage) sits beside `data` as storage, because
selfplay's daemon, promotion, the loop, serving and tuning all read it and it needs nothing above
nn; and `evaluate` sits below `train`, because training's Elo-based early stopping plays matches
(evaluation is a service that training and the loop use). `exec` (play "game i of a job" units)
sits below the game producers that use it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import ringrift

SRC = Path(ringrift.__file__).parent

# Lowest first. Packages in one layer are peers: they must not import each other either.
LAYERS: list[set[str]] = [
    {"errors"},  # UserError and friends (rules uses none of these helpers)
    {"atomic", "output_paths", "config_defaults"},
    {"rules"},
    {"nn"},
    {"ai"},
    {"data", "registry"},
    {"exec"},
    {"selfplay"},
    {"evaluate"},
    {"train"},
    {"tune"},
    {"loop"},
    {"serve"},
    {"bench"},
    {"cli", "__init__"},  # the commands and the public API (`from ringrift import ...`)
]
RANK = {name: i for i, layer in enumerate(LAYERS) for name in layer}

# Known upward imports, (importing module, imported package) -> the reason it stays (keep this
# short; none today: the online player's learner moved down to ai/, its losses and batch to nn/).
ALLOWED: dict[tuple[str, str], str] = {}


def _module_name(path: Path) -> str:
    parts = path.relative_to(SRC.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _package(module: str) -> str:
    """The top-level package of a `ringrift.X...` module (`__main__` entry points count as the
    CLI: `python -m ringrift.train` is a command)."""
    parts = module.split(".")
    if parts[-1] == "__main__":
        return "cli"
    return parts[1] if len(parts) > 1 else "__init__"


def _targets(node: ast.AST, module: str, is_package: bool) -> list[str]:
    """The ringrift modules an import statement names."""
    if isinstance(node, ast.Import):
        return [a.name for a in node.names if a.name.split(".")[0] == "ringrift"]
    if not isinstance(node, ast.ImportFrom):
        return []
    if node.level:  # relative: resolve against this module's package
        base = module.split(".")
        base = base if is_package else base[:-1]
        base = base[: len(base) - (node.level - 1)]
        name = ".".join(base + ([node.module] if node.module else []))
    else:
        name = node.module or ""
    if name.split(".")[0] != "ringrift":
        return []
    if name == "ringrift":  # `from ringrift import rules` names subpackages
        return [f"ringrift.{a.name}" for a in node.names]
    return [name]


@cache
def imports() -> list[tuple[str, str, int]]:
    """(importing module, imported module, line) for every ringrift import in the package."""
    out = []
    for path in sorted(SRC.rglob("*.py")):
        module = _module_name(path)
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        for node in ast.walk(tree):
            for target in _targets(node, module, path.name == "__init__.py"):
                out.append((module, target, node.lineno))
    return out


def violations() -> list[str]:
    found = []
    for module, target, line in imports():
        src, dst = _package(module), _package(target)
        if target.split(".")[-1] == "__main__":
            dst = "cli"
        if src == dst or (module, dst) in ALLOWED:
            continue
        if dst not in RANK and f"ringrift.{dst}" == target:  # `from ringrift import __version__`
            dst = "__init__"
        for name in (src, dst):
            assert name in RANK, f"package ringrift.{name} is in no layer of test_layering.py"
        if src == "rules" or RANK[dst] >= RANK[src]:
            found.append(f"{module}:{line} imports {target} (layer {RANK[dst]} {dst} >= "
                         f"layer {RANK[src]} {src})")
    return found


def test_every_import_points_down_the_layers():
    problems = violations()
    assert not problems, "upward or sideways imports:\n" + "\n".join(problems)


def test_the_checker_sees_function_level_relative_and_package_imports(tmp_path, monkeypatch):
    code = ("import ringrift.cli.main\n"
            "def f():\n    from ringrift.train import trainer\n"
            "from .. import loop\n"
            "from ringrift import serve, rules\n")
    tree = ast.parse(code)
    found = [t for node in ast.walk(tree) for t in _targets(node, "ringrift.data.x", False)]
    assert sorted(found) == ["ringrift.cli.main", "ringrift.loop", "ringrift.rules",
                             "ringrift.serve", "ringrift.train"]
    assert {_package(t) for t in found} - {"rules"} == {"cli", "loop", "serve", "train"}
    assert all(RANK[_package(t)] > RANK["data"] for t in found if _package(t) != "rules")


def test_allowed_exceptions_are_still_needed():
    # An exception that no import uses any more must be removed from ALLOWED.
    used = {(m, _package(t)) for m, t, _ in imports()}
    assert set(ALLOWED) <= used, set(ALLOWED) - used


def test_upward_sideways_and_rules_imports_are_reported(monkeypatch):
    fake = [("ringrift.data.export", "ringrift.selfplay.runner", 3),  # upward
            ("ringrift.data.gamedb", "ringrift.registry.store", 5),  # a peer
            ("ringrift.rules.state", "ringrift.errors", 7),  # rules imports nothing else
            ("ringrift.train.trainer", "ringrift.nn.models", 9),  # fine
            ("ringrift.loop.__main__", "ringrift.cli.main", 11)]  # an entry point: fine
    monkeypatch.setattr(__import__(__name__, fromlist=["imports"]), "imports", lambda: fake)
    assert [p.split(" ")[0] for p in violations()] == [
        "ringrift.data.export:3", "ringrift.data.gamedb:5", "ringrift.rules.state:7"]


def test_command_line_code_lives_in_cli():
    """Flags and `argparse.Namespace` belong to cli/: the library packages take settings and
    raise ConfigError naming the field (cli/main.py shows the flag)."""
    found = [str(path.relative_to(SRC)) for path in sorted(SRC.rglob("*.py"))
             if "argparse" in path.read_text(encoding="utf-8")
             and path.relative_to(SRC).parts[0] != "cli"]
    assert not found, found
    assert "argparse" in (SRC / "cli" / "main.py").read_text(encoding="utf-8")  # (it can see)
