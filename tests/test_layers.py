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


# sims/ holds the CLI, wiring, scans and plots; science lives below it. Outside sims/, only
# these sims modules may be imported, and no simulation imports another one.
_SIMS_TOOLS = {"sims", "sims.scan", "sims.scan.plot", "sims.plots", "sims.parsing", "sims.cli", "sims.runner"}


def _sims_imports(path: Path):
    tree = ast.parse(path.read_text(), filename=str(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] == "sims":
                    yield alias.name, node.lineno
        elif isinstance(node, ast.ImportFrom) and node.module:
            if node.level == 0 and node.module == "sims":  # from sims import whatwhen
                for alias in node.names:
                    yield f"sims.{alias.name}", node.lineno
            elif node.level == 0 and node.module.split(".")[0] == "sims":
                yield node.module, node.lineno
            elif node.level == 1 and path.parent.name == "sims":
                yield f"sims.{node.module}", node.lineno


def test_no_science_is_imported_from_sims():
    from sims import registry

    outside = [
        p
        for d in ("docs", "benchmarks")
        for p in sorted((ROOT / d).rglob("*.py"))
        if not {"_build", "auto_tutorials"} & set(p.parts)  # build output, not sources
    ]
    bad = [
        f"{p.relative_to(ROOT)}:{line} imports {mod}"
        for p in outside
        for mod, line in _sims_imports(p)
        if mod not in _SIMS_TOOLS
    ]
    simulations = set(registry.simulation_modules())
    bad += [
        f"{p.relative_to(ROOT)}:{line} imports the simulation {mod}"
        for p in sorted((ROOT / "sims").glob("*.py"))
        for mod, line in _sims_imports(p)
        if mod in simulations and f"sims.{p.stem}" != mod
    ]
    assert not bad, "science imported from sims/:\n" + "\n".join(bad)
