"""Lower layers never import higher ones (see CONTRIBUTING.md)."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FORBIDDEN = {
    "plasticity_rules": {"brian2", "spiking", "tasks", "sims"},
    "tasks": {"brian2", "spiking", "sims"},
    "spiking": {"tasks", "sims"},
}


def _imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name.split(".")[0], node.lineno
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.module.split(".")[0], node.lineno


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layering(package):
    bad = [
        f"{path.relative_to(ROOT)}:{line} imports {mod}"
        for path in sorted((ROOT / package).rglob("*.py"))
        for mod, line in _imports(path)
        if mod in FORBIDDEN[package]
    ]
    assert not bad, "layer violation(s):\n" + "\n".join(bad)
