"""Feature generation of ``run nalsm`` at full scale: sharded over workers, stored, resumable.

Once the liquid's initialised weights are fixed, the features of every sample are
independent of all other samples: each sample draws its input spikes from its own
seed (:func:`spiking.liquid.sample_seeds`, derived from the run seed and the
sample's index), starts from the same weights and resets all state. Feature
generation is therefore sharded into chunks of ``store_chunk`` samples that any
worker computes, and the parent process alone writes finished chunks into a
:class:`tasks.feature_store.FeatureStore`. The result does not depend on the
number of workers, on their order, or on an interruption.

Workers (:func:`generate_features`):

* ``workers == 1``: in this process, with the liquid it already built.
* ``workers > 1`` (default: one per core): a pool of fresh processes (``spawn``),
  each building the liquid once from its seed and the shipped weights. On one
  machine a process pool starts faster and carries less machinery than a Dask
  LocalCluster; Brian2's compiled code is already in the shared cache because the
  parent simulated the recorded validation samples first.
* ``scheduler``: a Dask scheduler address (``tcp://host:8786``, e.g. a
  dask-jobqueue cluster), or ``'local'`` (``run nalsm --local-dask``) for a Dask
  LocalCluster with ``workers`` processes; workers get the per-worker
  compiled-code caches of ``neuroplast scan`` (:class:`sims.scan.dask.WorkerCaches`).

Store layout under ``--out`` (see :func:`feature_root` for where it lives while the
run is in progress): ``features/<variant>/`` per model variant, keyed by
the liquid configuration, the liquid and sample seeds, the model parameters, the
initialisation data, the SHA-256 of the initialised weights and of the data;
``w_init.npy`` keeps the initialised weights, so a resumed run skips the
initialisation too.
"""

from __future__ import annotations

import dataclasses
import json
import os
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import numpy as np

__all__ = [
    "LiquidSpec",
    "FeatureJob",
    "resolve_workers",
    "generate_features",
    "feature_chunk",
    "progress_bar",
    "variant_features",
    "feature_root",
    "load_features",
]


@dataclass(frozen=True)
class LiquidSpec:
    """Everything a worker needs to rebuild the same liquid (connectivity from ``seed``)."""

    config: object  # spiking.liquid.LiquidConfig
    seed: int
    engine: str
    backend: str

    def build(self):
        from spiking.liquid import Brian2Liquid, NumbaLiquid

        if self.engine == "numba":
            return NumbaLiquid(self.config, seed=self.seed)
        return Brian2Liquid(self.config, seed=self.seed, backend=self.backend)

    def describe(self) -> dict:
        return {
            "liquid": dataclasses.asdict(self.config),
            "liquid_seed": self.seed,
            "engine": self.engine,
            "backend": self.backend if self.engine == "brian2" else "numba",
        }


@dataclass(frozen=True)
class FeatureJob:
    """The fixed part of every chunk: liquid, initialised weights, plasticity and the sample-seed base."""

    spec: LiquidSpec
    w_init: np.ndarray
    eta: float
    w_astro: float
    base_seed: int
    job_id: str


def _inside_worker() -> bool:
    """True in a scan's Dask worker or a daemonic process, whose cores are already in use."""
    import multiprocessing

    if multiprocessing.current_process().daemon:
        return True
    if "distributed" in sys.modules:
        try:
            sys.modules["distributed"].get_worker()
            return True
        except (ValueError, AttributeError):
            pass
    return False


def resolve_workers(workers: int) -> int:
    """``0`` -> one per core available to this process (1 inside a scan's worker); else ``workers``."""
    if isinstance(workers, bool) or not isinstance(workers, (int, np.integer)) or workers < 0:
        raise ValueError(f"workers must be an integer >= 0 (0 = one per core), got {workers!r}")
    if workers:
        return int(workers)
    if _inside_worker():  # a scan already runs one point per core
        return 1
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


# ---------------------------------------------------------------------------- worker side
_LIQUIDS: dict = {}  # this process's liquid per job id (built once, reused for every chunk)


def _liquid_for(job: FeatureJob):
    liq = _LIQUIDS.get(job.job_id)
    if liq is None:
        _LIQUIDS.clear()  # one job at a time: free the previous variant's network
        liq = job.spec.build().use_weights(job.w_init)
        _LIQUIDS[job.job_id] = liq
    return liq


def chunk_counts(liq, job: FeatureJob, start: int, probs) -> np.ndarray:
    """Spike counts (uint16, exact) of the samples from index ``start`` on, one per row of ``probs``."""
    from spiking.liquid import sample_seeds

    seeds = sample_seeds(job.base_seed, np.arange(start, start + probs.shape[0]))
    counts = liq.features(probs, eta=job.eta, w_astro=job.w_astro, sample_seeds=seeds).counts
    if counts.size and counts.max() > np.iinfo(np.uint16).max:  # pragma: no cover - > 65 535 spikes
        raise ValueError("spike counts exceed 65535 per sample and neuron; shorten sample_ms")
    return counts.astype(np.uint16)


def feature_chunk(job: FeatureJob, index: int, start: int, probs) -> tuple[int, np.ndarray]:
    """Compute one chunk in a worker (Dask task): ``(index, counts)``."""
    from .scan.caches import sync_caches

    first = job.job_id not in _LIQUIDS
    if first:
        sync_caches("pull")  # load code another worker of this machine compiled
    out = index, chunk_counts(_liquid_for(job), job, start, probs)
    if first:
        sync_caches("push")
    return out


_POOL_JOB: list = []


def _die_with_parent() -> None:
    """Linux: this worker gets SIGKILL when its parent dies (a killed run leaves no orphans)."""
    try:
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, int(signal.SIGKILL))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # pragma: no cover - not Linux/glibc
        pass


def _pool_init(job: FeatureJob) -> None:
    _die_with_parent()
    try:  # one BLAS thread per worker, as in the scan's pool: workers must not oversubscribe cores
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        pass
    _POOL_JOB[:] = [job]


def _pool_chunk(index: int, start: int, probs) -> tuple[int, np.ndarray]:
    job = _POOL_JOB[0]
    return index, chunk_counts(_liquid_for(job), job, start, probs)


# ---------------------------------------------------------------------------- parent side
def progress_bar(total: int, desc: str, initial: int = 0, enabled: bool = True):
    """One tqdm bar over samples (rate and ETA), or a silent stand-in."""
    if not enabled:
        return _NoBar()
    from tqdm.auto import tqdm

    return tqdm(
        total=total,
        initial=initial,
        unit="sample",
        desc=desc,
        dynamic_ncols=True,
        file=sys.stderr,
        smoothing=0.05,
    )


class _NoBar:
    n = 0

    def update(self, k):
        self.n += k

    def close(self):
        pass


def generate_features(
    store,
    probs: np.ndarray,
    job: FeatureJob,
    *,
    workers: int = 0,
    scheduler: str | None = None,
    local_liquid=None,
    progress: bool = False,
    desc: str = "features",
    cache_dir=None,
) -> dict:
    """Compute every chunk ``store`` is missing and write it; return counts and timing.

    Parameters
    ----------
    store : tasks.feature_store.FeatureStore
        Rows are the samples of ``probs`` (same order).
    probs : ndarray, shape (n_samples, n_input)
        Input spike probabilities of all samples.
    job : FeatureJob
    workers : int
        Worker processes (0 = one per core); ``1`` computes in this process.
    scheduler : str, optional
        Dask scheduler address, or ``'local'`` for a Dask LocalCluster of ``workers``.
    local_liquid : Liquid, optional
        This process's liquid with ``job.w_init`` set (used when ``workers == 1``).

    Returns
    -------
    dict
        ``n_workers``, ``n_computed`` (samples simulated now), ``n_resumed`` (found
        in the store) and ``seconds`` (wall time).
    """
    n_workers = resolve_workers(workers)
    todo = store.missing()
    n_resumed = store.n_samples - sum(b - a for a, b in map(store.chunk_rows, todo))
    t0 = time.perf_counter()
    if not todo:
        return {"n_workers": n_workers, "n_computed": 0, "n_resumed": n_resumed, "seconds": 0.0}
    tasks = [(i, *store.chunk_rows(i)) for i in todo]
    bar = progress_bar(store.n_samples, desc, initial=n_resumed, enabled=progress)

    def finish(index, counts):
        store.write_chunk(index, counts)
        a, b = store.chunk_rows(index)
        bar.update(b - a)

    try:
        if scheduler:
            _run_dask(tasks, probs, job, finish, scheduler, n_workers, cache_dir)
        elif n_workers == 1 or len(tasks) == 1:
            liq = local_liquid if local_liquid is not None else job.spec.build().use_weights(job.w_init)
            for i, a, b in tasks:
                finish(i, chunk_counts(liq, job, a, probs[a:b]))
        else:
            _run_pool(tasks, probs, job, finish, min(n_workers, len(tasks)))
    finally:
        bar.close()
    return {
        "n_workers": n_workers,
        "n_computed": store.n_samples - n_resumed,
        "n_resumed": n_resumed,
        "seconds": time.perf_counter() - t0,
    }


def _run_pool(tasks, probs, job, finish, n_workers):
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
    from concurrent.futures.process import BrokenProcessPool

    pool = ProcessPoolExecutor(
        max_workers=n_workers,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=_pool_init,
        initargs=(job,),
    )
    pending = set()
    queue = list(tasks)
    try:
        # keep a few chunks per worker in flight: bounded memory, no idle worker
        while queue or pending:
            while queue and len(pending) < 2 * n_workers:
                i, a, b = queue.pop(0)
                pending.add(pool.submit(_pool_chunk, i, a, probs[a:b]))
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for fut in done:
                try:
                    index, counts = fut.result()
                except BrokenProcessPool:
                    raise RuntimeError(
                        "a feature worker died (out of memory or killed); finished chunks are stored: "
                        "re-run the same command to resume"
                    ) from None
                finish(index, counts)
    except BaseException:
        pool.shutdown(wait=False, cancel_futures=True)
        for p in list(getattr(pool, "_processes", {}).values()):  # do not leave a chunk running
            p.kill()
        raise
    pool.shutdown(wait=True)


def _run_dask(tasks, probs, job, finish, scheduler, n_workers, cache_dir):
    from distributed import as_completed

    from .scan.dask import WorkerCaches, client_for, connect_scheduler, local_cluster

    cluster = None
    if scheduler == "local":
        cluster = local_cluster(n_workers)
        client = client_for(cluster)
    else:
        client = connect_scheduler(scheduler, timeout=30.0)
    futures = []
    try:
        plugin = WorkerCaches(None if cache_dir is None else str(cache_dir))
        client.register_plugin(plugin, name=plugin.name)
        job_f = client.scatter(job, broadcast=True)
        for i, a, b in tasks:
            futures.append(
                client.submit(
                    feature_chunk, job_f, i, a, probs[a:b], key=f"nalsm-{job.job_id[:12]}-{i}", priority=-i
                )
            )
        for fut in as_completed(futures, loop=client.loop):
            finish(*fut.result())
    except BaseException:
        client.cancel(futures, force=True)
        raise
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


@contextmanager
def feature_root(out):
    """Directory holding the feature stores of a run (one ``<variant>/`` per model variant).

    * ``out`` is ``None``: a temporary directory, deleted afterwards.
    * Under :func:`sims.runner.execute`, ``out`` is the run's staged output, which is
      deleted if the run fails or is interrupted and replaces ``--out`` only when it
      completes. The stores live in ``--out``'s hidden sibling ``.<name>.features/``
      meanwhile, so an interrupted run's finished chunks survive for the next run of
      the same command; on success they move (one rename) to ``features/`` in the
      output. A previous complete result's ``features/`` is hard-linked there first,
      so re-running a finished command simulates nothing and leaves the old result
      intact until the new one replaces it.
    * Otherwise ``out/features``.
    """
    import shutil
    import tempfile

    from .runner import output_target

    if out is None:
        with tempfile.TemporaryDirectory(prefix="neuroplast-features-") as tmp:
            yield Path(tmp)
        return
    target = output_target()
    if target is None or Path(out).absolute() == Path(target).absolute():
        root = Path(out) / "features"
        root.mkdir(parents=True, exist_ok=True)
        yield root
        return
    work = Path(target).parent / f".{Path(target).name}.features"
    previous = Path(target) / "features"
    if not work.exists() and previous.is_dir():
        tmp = Path(tempfile.mkdtemp(dir=work.parent, prefix=f".{work.name}.", suffix=".tmp"))
        shutil.copytree(previous, tmp / "features", copy_function=os.link, dirs_exist_ok=True)
        os.rename(tmp / "features", work)  # complete or absent: never half a copy
        tmp.rmdir()
    work.mkdir(exist_ok=True)
    yield work
    os.rename(work, Path(out) / "features")


def variant_features(
    liq,
    spec: LiquidSpec,
    probs: np.ndarray,
    labels: np.ndarray,
    splits: dict,
    *,
    label: str,
    params: dict,
    init_probs: np.ndarray | None,
    init_seed: int,
    base_seed: int,
    data_sha256: str,
    store_root: Path,
    workers: int,
    scheduler: str | None,
    store_chunk: int,
    force: bool,
    n_record: int,
    progress: bool,
):
    """Initialise (or reload) one model variant and fill its feature store; see the module docstring.

    Parameters
    ----------
    liq : Liquid
        This process's liquid built from ``spec``.
    probs, labels : ndarray, shape (n_samples, n_input) and (n_samples,)
        All samples (train, validation, test concatenated, as in ``splits``).
    params : dict
        ``model``, ``eta``, ``w_astro``, ``w_scale`` of the variant.
    init_probs : ndarray or None
        Samples of the initialisation phase (``None``: fixed-weight LSM, ``w_scale * w0``).

    Returns
    -------
    counts : ndarray, shape (n_samples, n_liquid)
    recorded : LiquidFeatures
        The first ``n_record`` validation samples with every spike recorded.
    info : dict
        ``n_workers``, ``init_s``, ``features_s``, ``n_computed``, ``n_resumed``, ``label``.
    """
    from spiking.liquid import sample_seeds
    from tasks.feature_store import FeatureStore, array_digest, key_differences, stored_key

    key = dict(spec.describe(), **params, sample_seed=int(base_seed), data_sha256=data_sha256)
    if init_probs is not None:
        key["init"] = {
            "n": int(init_probs.shape[0]),
            "seed": int(init_seed),
            "probs_sha256": array_digest(init_probs),
        }
    key = json.loads(json.dumps(key))  # canonical JSON types (tuples -> lists), as stored
    d = Path(store_root) / label
    old = stored_key(d)
    w = None
    if old is not None:
        diffs = [k for k in key_differences(old, key) if k != "weights_sha256"]
        if diffs and not force:
            raise ValueError(
                f"{str(d)!r} holds features of a different configuration (differs in: {', '.join(diffs)}); "
                "use another --out, or --force to delete them"
            )
        saved = None if diffs else _load_npy(d / "w_init.npy")
        if saved is not None and array_digest(saved) == old.get("weights_sha256"):
            w = saved  # initialised by an earlier, interrupted run of the same command
    t0 = time.perf_counter()
    if w is not None:
        liq.use_weights(w)
    elif init_probs is None:
        liq.use_initial_weights(params["w_scale"])
    else:
        bar = progress_bar(init_probs.shape[0], f"init {label}", enabled=progress)
        liq.initialise(
            init_probs,
            eta=params["eta"],
            w_astro=params["w_astro"],
            seed=init_seed,
            callback=lambda n: bar.update(n - bar.n),
        )
        bar.close()
    init_s = time.perf_counter() - t0 if w is None and init_probs is not None else 0.0
    w = liq.w_init_
    key["weights_sha256"] = array_digest(w)
    store = FeatureStore(
        d,
        key=key,
        n_samples=probs.shape[0],
        n_features=liq.config.n_liquid,
        chunk_size=store_chunk,
        force=force,
        meta={"splits": {k: list(v) for k, v in splits.items()}, "label": label},
    )
    store.save_array("w_init", w)
    store.save_array("labels", labels)
    if init_s:
        store.set_meta(init_s=init_s)
    # the recorded validation samples run here first: Brian2 compiles the feature code once,
    # in this process, before workers load it from the cache
    v0 = splits["val"][0]
    n_rec = min(n_record, splits["val"][1] - v0)
    recorded = liq.features(
        probs[v0 : v0 + n_rec],
        eta=params["eta"],
        w_astro=params["w_astro"],
        n_record=n_rec,
        sample_seeds=sample_seeds(base_seed, np.arange(v0, v0 + n_rec)),
    )
    eta, w_astro = float(params["eta"]), float(params["w_astro"])
    job = FeatureJob(spec, w, eta, w_astro, int(base_seed), store_key_id(key))
    gen = generate_features(
        store,
        probs,
        job,
        workers=workers,
        scheduler=scheduler or None,
        local_liquid=liq,
        progress=progress,
        desc=f"features {label}",
    )
    counts = store.read()
    info = {
        "n_workers": gen["n_workers"],
        "init_s": init_s,
        "features_s": gen["seconds"],
        "n_computed": gen["n_computed"],
        "n_resumed": gen["n_resumed"],
        "label": label,
    }
    return counts, recorded, info


def store_key_id(key: dict) -> str:
    from tasks.feature_store import key_digest

    return key_digest(key)


def _load_npy(path: Path):
    try:
        return np.load(path, allow_pickle=False)
    except (OSError, ValueError):
        return None


def load_features(path, variant: str | None = None):
    """Stored NALSM features without simulating: :class:`tasks.feature_store.StoredFeatures`.

    ``path`` is a store (``OUT/features/<variant>``) or a ``run nalsm --out`` directory;
    there, ``variant`` (e.g. ``'nalsm_eta0.15_wastro0.01_wscale1'``) picks the model
    variant and may be omitted when only one is stored.
    """
    from tasks.feature_store import MANIFEST
    from tasks.feature_store import load_features as load_store

    p = Path(path)
    if (p / MANIFEST).is_file():
        return load_store(p)
    root = p / "features"
    labels = sorted(d.name for d in root.iterdir() if (d / MANIFEST).is_file()) if root.is_dir() else []
    if not labels:
        raise ValueError(f"{str(p)!r} holds no stored features (no {MANIFEST} in it or in features/*/)")
    if variant is None and len(labels) == 1:
        variant = labels[0]
    if variant not in labels:
        raise ValueError(
            f"{str(p)!r} stores the variants {', '.join(labels)}; choose one with variant=..."
            if variant is None
            else f"variant {variant!r} is not stored in {str(p)!r}; stored: {', '.join(labels)}"
        )
    return load_store(root / variant)
