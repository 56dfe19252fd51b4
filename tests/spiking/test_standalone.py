"""cpp_standalone: one compiled binary, many seeds, reused across processes.

Runs in subprocesses because the standalone device is process-global.
"""

import json
import os
import subprocess
import sys

_CHILD = r"""
import json, sys
from spiking.reservoir import IzhikevichReservoir, preset
cfg = preset("izhikevich2003", n_neurons=100)
res = IzhikevichReservoir(cfg, seed=int(sys.argv[1]), backend="cpp_standalone")
runs = [res.run(0.2, seed=s) for s in (7, 7, 8)]
res.close()
print(json.dumps({"spikes": [[r.spikes.indices.tolist(), r.spikes.times.tolist()] for r in runs]}))
"""


def _run(seed, cache):
    env = dict(os.environ, NEUROPLAST_CACHE=str(cache))
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(seed)], env=env, capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout.strip().splitlines()[-1])["spikes"]


def test_standalone_seeds_and_binary_reuse(tmp_path):
    first = _run(0, tmp_path)
    assert first[0] == first[1]  # same trial seed, same spikes
    assert first[0] != first[2]  # another trial seed, other noise
    assert len(first[0][0]) > 0
    (build,) = list((tmp_path / "standalone").iterdir())
    binary = build / "main"
    mtime = binary.stat().st_mtime_ns
    again = _run(0, tmp_path)  # new process: same spikes, binary not rebuilt
    assert again == first
    assert binary.stat().st_mtime_ns == mtime
    other = _run(1, tmp_path)  # other structure seed: same binary, another network
    assert other[0] != first[0]
    assert binary.stat().st_mtime_ns == mtime
