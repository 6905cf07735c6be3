"""The integrations app's modules import one another one way, and enqueue work only by name.

The graph is read from the source with ``ast`` (every ``import``, module-level or inside a
function: a lazy import is still a dependency), over the product's packages.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PRODUCT = ("copilot", "calendars", "integrations")
# Enqueueing by name, after commit: the integrations app's queue, and accounts' mail (which may
# not import integrations: dependencies run one way).
ENQUEUERS = {"integrations.queue", "copilot.accounts.mail"}


def module_name(path: Path, root: Path = ROOT) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def product_modules(root: Path = ROOT) -> dict[str, Path]:
    found = {}
    for package in PRODUCT:
        for path in (root / package).rglob("*.py"):
            if "migrations" not in path.parts:
                found[module_name(path, root)] = path
    return found


def imports_of(name: str, path: Path, known: set[str]) -> set[str]:
    """The product modules ``name`` imports (``from x import y`` counts y when y is a module)."""
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            targets = [f"{base}.{alias.name}" for alias in node.names] + [base]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != name:
                found.add(target)
    return found


def import_graph(modules: dict[str, Path]) -> dict[str, set[str]]:
    known = set(modules)
    return {name: imports_of(name, path, known) for name, path in modules.items()}


def find_cycle(graph: dict[str, set[str]], within: str) -> list[str] | None:
    """One cycle through modules of ``within`` (a dotted prefix), as a path; None when there is none."""
    nodes = {n for n in graph if n == within or n.startswith(within + ".")}
    state: dict[str, str] = {}
    stack: list[str] = []

    def visit(node: str) -> list[str] | None:
        state[node] = "open"
        stack.append(node)
        for target in sorted(graph[node] & nodes):
            if state.get(target) == "open":
                return stack[stack.index(target) :] + [target]
            if target not in state and (cycle := visit(target)):
                return cycle
        state[node] = "done"
        stack.pop()
        return None

    for node in sorted(nodes):
        if node not in state and (cycle := visit(node)):
            return cycle
    return None


def test_the_integrations_import_graph_has_no_cycle():
    """Fails on the old layout: channels → services → tasks → channels."""
    cycle = find_cycle(import_graph(product_modules()), "integrations")
    assert cycle is None, "import cycle: " + " → ".join(cycle)


def test_the_book_never_imports_integrations():
    graph = import_graph(product_modules())
    leaks = {
        (name, target)
        for name, targets in graph.items()
        if name.startswith(("calendars", "copilot.accounts"))
        for target in targets
        if target.startswith("integrations")
    }
    assert not leaks


def test_the_queue_is_a_leaf_that_imports_nothing_of_the_product():
    graph = import_graph(product_modules())
    assert graph["integrations.queue"] == set()


def test_only_the_queue_modules_call_async_task():
    callers = {
        name
        for name, path in product_modules().items()
        if "async_task" in path.read_text() and name not in ENQUEUERS
    }
    assert not callers, f"enqueue through integrations/queue.py instead: {sorted(callers)}"


def test_a_cycle_is_found(tmp_path):
    """The check itself: two modules that import each other (and a lazy import closing a loop)."""
    package = tmp_path / "integrations"
    (package / "google").mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "google" / "__init__.py").write_text("")
    (package / "services.py").write_text("from . import tasks\n")
    (package / "tasks.py").write_text("def run():\n    from .google import push\n")
    (package / "google" / "push.py").write_text("from .. import services\n")
    (package / "queue.py").write_text("from django.db import transaction\n")
    modules = {module_name(p, tmp_path): p for p in package.rglob("*.py")}

    cycle = find_cycle(import_graph(modules), "integrations")

    assert cycle == [
        "integrations.google.push",
        "integrations.services",
        "integrations.tasks",
        "integrations.google.push",
    ]
    (package / "tasks.py").write_text("def run():\n    pass\n")
    assert find_cycle(import_graph(modules), "integrations") is None


@pytest.mark.parametrize("name", sorted(ENQUEUERS))
def test_the_enqueuers_exist(name):
    assert name in product_modules()
