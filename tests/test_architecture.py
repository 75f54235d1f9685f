"""The layout, measured from the imports (docs/architecture.md describes it, docs/decisions.md says why).

Every product module is parsed with `ast` (imports inside functions count too). We measure import circles
(strongly connected components of the module graph), imports that run from a lower layer up to a higher one,
module sizes, and the walls between the AMC client, the sandbox and the apps.

Run `python tests/test_architecture.py` to print the numbers.
"""

import ast
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Lowest first. A module belongs to the layer of its longest matching prefix.
LAYERS = [
    ("core", ["recomamp"]),  # settings, shared helpers: ownership, ids, crypto, admin helpers
    ("amc", ["recomamp.amc"]),  # the AMC/LWA HTTP client
    ("sandbox", ["recomamp.sandbox"]),  # a fake AMC, reached over HTTP only
    ("accounts", ["accounts"]),
    ("instances", ["instances"]),
    ("queries", ["queries"]),
    ("executions", ["executions"]),
    ("brands", ["brands"]),  # brand lists; start_execution resolves list references through brands.lists
    ("schedules", ["schedules"]),
    ("runsets", ["runsets"]),  # one query over many windows and instances, through start_execution
    ("guides", ["guides"]),
    ("dashboards", ["dashboards"]),  # read run sets and schedule histories
    ("home", ["home", "recomamp.urls"]),  # the dashboard, the demo and the URL root import every app
]
# The demo connects a user to the sandbox and seeds it, so it is the one module above the apps that may touch both.
SANDBOX_SEEDERS = {"home.demo"}
# Apps added later that the order above does not place yet: counted for circles and sizes only.
MAX_LINES = 400
SKIP_DIRS = {"tests", "migrations", "bench", "static", "templates", "node_modules", ".local", ".venv"}


def product_modules():
    modules = {}
    for path in ROOT.rglob("*.py"):
        rel = path.relative_to(ROOT)
        if any(part in SKIP_DIRS or part.startswith(".") for part in rel.parts[:-1]):
            continue
        if len(rel.parts) == 1 or rel.name.startswith("test_") or rel.name == "conftest.py":
            continue
        if not (ROOT / rel.parts[0] / "__init__.py").exists():
            continue
        name = ".".join(rel.with_suffix("").parts)
        if name.endswith(".__init__"):
            name = name[: -len(".__init__")]
        modules[name] = path
    return modules


def _resolve(name, modules):
    """The product module an import names (a package's `from x import y` may name a submodule)."""
    while name and name not in modules:
        name = name.rpartition(".")[0]
    return name or None


def import_graph(modules):
    graph = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        package = name if path.name == "__init__.py" else name.rpartition(".")[0]
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = package.split(".")
                    parts = parts[: len(parts) - node.level + 1]
                    base = ".".join(parts + ([base] if base else []))
                # `from pkg import name`: the submodule pkg.name if there is one, else pkg itself
                names = [f"{base}.{alias.name}" for alias in node.names]
            else:
                continue
            for imported in names:
                target = _resolve(imported, modules)
                if target and target != name:
                    targets.add(target)
        graph[name] = targets
    return graph


def circles(graph):
    """Strongly connected components with more than one module (Tarjan, iterative)."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for root in graph:
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            advanced = False
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph[child]))))
                    advanced = True
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            if advanced:
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def layer_of(module):
    best, best_len = None, -1
    for position, (_, prefixes) in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best_len:
                best, best_len = position, len(prefix)
    return best


def upward_imports(graph):
    found = []
    for source, targets in graph.items():
        for target in targets:
            low, high = layer_of(source), layer_of(target)
            if low is not None and high is not None and high > low:
                found.append((source, target))
    return sorted(found)


def oversized(modules):
    sizes = {name: len(path.read_text().splitlines()) for name, path in modules.items()}
    return sorted((name, lines) for name, lines in sizes.items() if lines > MAX_LINES)


def measure():
    modules = product_modules()
    graph = import_graph(modules)
    return modules, graph, circles(graph), upward_imports(graph), oversized(modules)


def _app(module):
    return module.split(".")[0]


def _importers_of(graph, predicate_source, predicate_target):
    return sorted(
        (source, target)
        for source, targets in graph.items()
        for target in targets
        if predicate_source(source) and predicate_target(target)
    )


def _in(module, prefix):
    return module == prefix or module.startswith(prefix + ".")


def test_no_import_circles():
    _, _, found, _, _ = measure()
    assert found == []


def test_at_most_one_upward_import():
    _, _, _, upward, _ = measure()
    assert len(upward) <= 1, upward


def test_no_product_module_over_400_lines():
    _, _, _, _, big = measure()
    assert big == []


def test_walls():
    _, graph, _, _, _ = measure()
    apps = {_app(module) for module in graph} - {"recomamp"}

    def is_app(module):
        return _app(module) in apps

    # The AMC client imports no app (and not the sandbox).
    outside = lambda t: is_app(t) or _in(t, "recomamp.sandbox")  # noqa: E731
    assert _importers_of(graph, lambda s: _in(s, "recomamp.amc"), outside) == []
    # Apps never import the sandbox; the sandbox imports no app.
    in_sandbox = lambda t: _in(t, "recomamp.sandbox")  # noqa: E731
    assert _importers_of(graph, lambda s: is_app(s) and s not in SANDBOX_SEEDERS, in_sandbox) == []
    assert _importers_of(graph, lambda s: _in(s, "recomamp.sandbox"), is_app) == []
    # Executions never import schedules.
    assert _importers_of(graph, lambda s: _in(s, "executions"), lambda t: _in(t, "schedules")) == []


def test_ground_floor_imports_no_app():
    """The project package (settings and shared helpers) is the ground floor; only the URL root looks up."""
    _, graph, _, _, _ = measure()
    apps = {_app(module) for module in graph} - {"recomamp"}
    leaks = _importers_of(
        graph,
        lambda s: _in(s, "recomamp") and not _in(s, "recomamp.sandbox") and s != "recomamp.urls",
        lambda t: _app(t) in apps,
    )
    assert leaks == []


def test_only_the_lifecycle_writes_execution_status():
    """`Execution.objects….update(status=…)` appears in executions.lifecycle only."""
    found = []
    for name, path in product_modules().items():
        if name == "executions.lifecycle":
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "update"
                and re.search(r"(?<![\w.])Execution\.objects", ast.unparse(node.func.value))
                and any(keyword.arg == "status" for keyword in node.keywords)
            ):
                found.append((name, node.lineno))
    assert found == []


def test_no_private_names_across_apps():
    modules = product_modules()
    found = []
    for name, path in modules.items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module and not node.level:
                if _app(node.module) != _app(name) and node.module.split(".")[0] in {_app(m) for m in modules}:
                    found += [(name, node.module, a.name) for a in node.names if a.name.startswith("_")]
    assert found == []


if __name__ == "__main__":
    modules, graph, found, upward, big = measure()
    print(f"product modules: {len(modules)}")
    print(f"import circles: {len(found)}")
    for component in found:
        print("  ", " <-> ".join(component))
    print(f"upward imports: {len(upward)}")
    for source, target in upward:
        print(f"   {source} -> {target}")
    print(f"modules over {MAX_LINES} lines: {len(big)}")
    for name, lines in big:
        print(f"   {name}: {lines}")
    sys.exit(0)
