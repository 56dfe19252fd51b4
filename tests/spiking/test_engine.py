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


_LATE_SETUPTOOLS = r"""
import gc
import sys
from spiking.engine import configure, import_brian2
b2 = import_brian2()
assert gc.isenabled(), "import_brian2 left the cyclic GC paused"
import setuptools  # a library imported after Brian2 (patches distutils' Distribution)
b2.prefs.codegen.runtime.cython.cache_dir = sys.argv[1]  # empty: forces a real build
print(configure("cython"))
G = b2.NeuronGroup(3, "dv/dt = -v / (10*ms) : 1", method="exact")
G.v = 1.0
net = b2.Network(G)
net.run(1 * b2.ms)
print(round(float(G.v[0]), 6))
"""


def test_compiles_when_setuptools_is_imported_after_brian2(tmp_path):
    # regression: a distutils swapped under Brian2 made every later Cython build fail
    # ("dist must be a Distribution instance") once any library imported setuptools
    cmd = [sys.executable, "-c", _LATE_SETUPTOOLS, str(tmp_path)]
    out = subprocess.run(cmd, capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    backend, v = out.stdout.split()[-2:]
    assert backend == "cython"  # not the numpy fallback of a failed build
    assert abs(float(v) - 0.904837) < 1e-5


def test_import_brian2_restores_the_garbage_collector_state():
    code = (
        "import gc, sys\n"
        "from spiking.engine import import_brian2\n"
        "gc.disable() if sys.argv[1] == 'off' else None\n"
        "import_brian2()\n"
        "print(gc.isenabled())\n"
    )
    for state, expected in (("on", "True"), ("off", "False")):
        out = subprocess.run([sys.executable, "-c", code, state], capture_output=True, text=True, check=True)
        assert out.stdout.split()[-1] == expected
