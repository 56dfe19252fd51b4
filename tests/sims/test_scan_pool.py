"""The process pool's set-up: the Cython cache a worker uses does not depend on whether
Brian2 was imported before its caches were configured (the pool imports it before forking)."""

import subprocess
import sys

from spiking.engine import configure, import_brian2


def test_worker_cache_dir_same_with_brian2_imported_first(tmp_path, monkeypatch):
    b2 = import_brian2()
    for var in ("NUMBA_CACHE_DIR", "CYTHON_CACHE_DIR", "NEUROPLAST_CACHE"):
        monkeypatch.delenv(var, raising=False)
    old = b2.prefs.codegen.runtime.cython.cache_dir
    from sims.scan import caches

    numba = sys.modules.get("numba")
    old_numba = numba.config.CACHE_DIR if numba is not None else None
    old_caches = dict(caches._CACHES)
    try:
        caches.configure_worker_caches(tmp_path / "w")
        configure("cython")
        before = b2.prefs.codegen.runtime.cython.cache_dir
    finally:  # this test process keeps its own caches
        b2.prefs.codegen.runtime.cython.cache_dir = old
        if numba is not None:
            numba.config.CACHE_DIR = old_numba
        caches._CACHES.clear()
        caches._CACHES.update(old_caches)
        monkeypatch.undo()
    # a fresh process that configures the caches first and imports Brian2 afterwards
    code = (
        "import sys\n"
        "from sims.scan.caches import configure_worker_caches\n"
        f"configure_worker_caches({str(tmp_path / 'w')!r})\n"
        "from spiking.engine import configure, import_brian2\n"
        "configure('cython')\n"
        "print(import_brian2().prefs.codegen.runtime.cython.cache_dir)\n"
    )
    fresh = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert fresh.stdout.strip().splitlines()[-1] == before


def test_pool_preload_imports_brian2_and_the_simulation():
    code = (
        "import sys\n"
        "from sims.scan.pool import _preload\n"
        "assert 'brian2' not in sys.modules\n"
        "_preload({'simulation': 'reservoir', 'modules': []})\n"
        "print('brian2' in sys.modules, 'sims.reservoir' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["True", "True"]


def test_pool_runs_largest_points_first_ties_in_order():
    from sims.scan.pool import longest_first, point_cost

    tasks = [
        {"params": {"n_neurons": 500, "weight_scale": 0.5}, "seed": 0},
        {"params": {"n_neurons": 500, "weight_scale": 1.0}, "seed": 0},
        {"params": {"n_neurons": 1000, "weight_scale": 0.5}, "seed": 0},
        {"params": {"n_neurons": 1000, "duration": 2.0}, "seed": 1},
        {"params": {"duration": "20s"}, "seed": 0},  # text: counts as 1
    ]
    assert point_cost(tasks[3]) == 2000.0 and point_cost(tasks[4]) == 1.0
    order = longest_first(tasks)
    assert order == [tasks[3], tasks[2], tasks[0], tasks[1], tasks[4]]


def test_pool_workers_inherit_frozen_objects_parent_unfrozen_after(tmp_path, monkeypatch):
    import gc

    import sims._testing  # noqa: F401  (registers "_toy")
    from sims.scan import pool
    from sims.scan.worker import run_point

    seen = tmp_path / "freeze_counts"
    seen.mkdir()
    init = pool._init_worker

    def recording_init(cache):  # runs in each forked worker
        (seen / str(__import__("os").getpid())).write_text(str(gc.get_freeze_count()))
        init(cache)

    monkeypatch.setattr(pool, "_init_worker", recording_init)
    tasks = [
        {"simulation": "_toy", "modules": ["sims._testing"], "params": {"x": 0.1 * i}, "seed": 0,
         "metrics": None, "key": f"k{i}", "point": i, "spec_hash": "h", "attempts": 1}
        for i in range(4)
    ]
    rows = []
    assert gc.get_freeze_count() == 0
    pool.run_on_pool(tasks, lambda row, att: rows.append(row), 2, cache_dir=tmp_path / "c",
                     log=lambda m: None, warmup=False)
    assert sorted(r.key for r in rows if r.status == "done") == [t["key"] for t in tasks]
    counts = [int(p.read_text()) for p in seen.iterdir()]
    assert counts and min(counts) > 1000  # the parent's objects were frozen before the fork
    assert gc.get_freeze_count() == 0  # and unfrozen in the parent afterwards
    ref = [run_point(t) for t in tasks]
    assert {r.key: r.metrics for r in rows} == {r.key: r.metrics for r in ref}

