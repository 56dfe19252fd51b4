import subprocess
import sys

_CHILD = r"""
import sys
from spiking.engine import import_brian2
b2 = import_brian2()
assert "matplotlib" not in sys.modules and "pylab" not in sys.modules, "Brian2 pulled in Matplotlib"
assert b2.ms * 1000 == b2.second
import matplotlib  # hidden only during Brian2's import: still importable afterwards
import pylab
print("ok")
"""


def test_brian2_imports_without_matplotlib():
    out = subprocess.run([sys.executable, "-c", _CHILD], capture_output=True, text=True, check=True)
    assert out.stdout.strip().endswith("ok")


def test_cli_start_imports_nothing_heavy():
    code = (
        "import sys, sims.cli\n"
        "sims.cli.build_parser()\n"
        "heavy = ('brian2', 'distributed', 'dask', 'matplotlib', 'sympy')\n"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "[]"
