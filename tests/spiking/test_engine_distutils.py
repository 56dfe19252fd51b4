"""spiking.engine.use_stdlib_distutils: Brian2 imports the standard library's distutils (faster import)."""

import os
import subprocess
import sys

import pytest

from spiking import engine

_PROBE = (
    "import os, sys\n"
    "from spiking.engine import import_brian2\n"
    "import_brian2()\n"
    "import distutils\n"
    "print(os.environ.get('SETUPTOOLS_USE_DISTUTILS'))\n"
    "print('setuptools' in distutils.__file__)\n"
    "print('pkg_resources' in sys.modules)\n"
)


def _probe(env_value=None):
    env = {k: v for k, v in os.environ.items() if k != "SETUPTOOLS_USE_DISTUTILS"}
    if env_value is not None:
        env["SETUPTOOLS_USE_DISTUTILS"] = env_value
    out = subprocess.run(
        [sys.executable, "-c", _PROBE], env=env, capture_output=True, text=True, check=True
    ).stdout.split()
    return out[0], out[1] == "True", out[2] == "True"


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="no distutils in the standard library")
def test_brian2_gets_stdlib_distutils_without_setuptools():
    var, from_setuptools, pkg_resources = _probe()
    assert var == "stdlib"
    assert not from_setuptools
    assert not pkg_resources


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="no distutils in the standard library")
def test_user_choice_of_distutils_wins():
    pytest.importorskip("setuptools")
    var, from_setuptools, _ = _probe("local")
    assert var == "local"
    assert from_setuptools


def test_no_change_when_distutils_already_imported_or_python_312(monkeypatch):
    monkeypatch.delenv("SETUPTOOLS_USE_DISTUTILS", raising=False)
    monkeypatch.setitem(sys.modules, "distutils", object())
    assert engine.use_stdlib_distutils() is False
    assert "SETUPTOOLS_USE_DISTUTILS" not in os.environ
    monkeypatch.delitem(sys.modules, "distutils")
    monkeypatch.setattr(sys, "version_info", (3, 12, 0))
    assert engine.use_stdlib_distutils() is False
    assert "SETUPTOOLS_USE_DISTUTILS" not in os.environ
