"""
Parameter scans: many points, many seeds, one table
===================================================

``neuroplast scan`` runs a simulation over a grid (or random draws) of its
parameters, each point with several seeds, on a Dask cluster, and keeps every
finished point in a durable store you read back as one pandas DataFrame. Here
we scan how the firing rates of the heterogeneous Izhikevich (2003) reservoir
depend on its recurrent weight scale and size.

From the shell the same scan is::

    neuroplast scan scan.toml --dry-run          # the points, nothing runs
    neuroplast scan scan.toml --out scans/rates  # local Dask cluster, one worker per core
    neuroplast scan-plot scans/rates --x weight_scale --y mean_rate_exc_hz --hue n_neurons

To keep this page quick, points run one after the other in this process
(``serial=True``) with Brian2's NumPy target (nothing to compile) and short
runs; a real scan leaves both at their defaults.
"""

# %%
# The spec
# --------
# A TOML file names the simulation, the fixed parameters, the scanned ones
# (lists, ``{start, stop, step}`` ranges, ``{start, stop, num, log = true}``
# log-ranges or ``{random = ..., count = ...}`` draws), the metrics to keep and
# the number of seeds. It is checked completely before anything runs.
import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

from sims.scan import describe, load_scan, load_spec, run_scan
from sims.scan.plot import plot_scan

work = Path(tempfile.mkdtemp(prefix="neuroplast_scan_"))
spec_file = work / "scan.toml"
spec_file.write_text("""
simulation = "reservoir"
n_seeds = 2
metrics = ["mean_rate_exc_hz", "mean_rate_inh_hz", "n_spikes"]

[fixed]
preset = "izhikevich2003"
duration = "300ms"
backend = "numpy"

[scan]
weight_scale = { start = 0.25, stop = 1.25, step = 0.25 }
n_neurons = [100, 200]
""")
spec = load_spec(spec_file)
print(describe(spec))

# %%
# Mistakes are caught before anything runs, with the key that is wrong:
for bad in (
    "n_neuron = [100, 200]",
    "weight_scale = { start = 1.0, stop = 0.5, step = 0.25 }",
    'n_neurons = [100, "many"]',
):
    try:
        load_spec_text = spec_file.read_text().split("[scan]")[0] + "[scan]\n" + bad + "\n"
        (work / "bad.toml").write_text(load_spec_text)
        load_spec(work / "bad.toml")
    except ValueError as exc:
        print("rejected:", str(exc).split(": ", 1)[1][:110])

# %%
# Running, and resuming
# ---------------------
# Every finished point is written to ``out/scan.sqlite`` at once, in its own
# transaction. Running the same spec again skips what is done (and retries what
# failed), so an interrupted scan just continues. Without ``serial=True`` the
# points go to a local Dask cluster (one worker process per core), or with
# ``scheduler="tcp://host:8786"`` to any running Dask cluster.
out = work / "rates"
summary = run_scan(spec, out, serial=True, max_points=8, log=print)  # stop early, as if interrupted
summary = run_scan(spec, out, serial=True, log=print)  # the same command again: only the rest runs

# %%
# One table
# ---------
# :func:`sims.scan.load_scan` returns one row per (point, seed) with the
# parameters, the metrics, status, error, timing and versions.
df = load_scan(out)
print(
    df[["point", "seed", "weight_scale", "n_neurons", "mean_rate_exc_hz", "status", "wall_time_s"]]
    .head(8)
    .to_string(index=False)
)
print(df.groupby(["n_neurons", "weight_scale"])["mean_rate_exc_hz"].agg(["mean", "std"]).round(2))

# %%
# Plots
# -----
# A metric against one parameter, mean and one standard deviation over seeds
# (dots: single seeds), one line per value of a second parameter; or a heatmap
# over two parameters. ``neuroplast scan-plot`` writes the same plots to PNG.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4), layout="constrained")
plot_scan(out, x="weight_scale", y="mean_rate_exc_hz", hue="n_neurons", ax=ax1)
plot_scan(out, x="weight_scale", y="mean_rate_inh_hz", hue="n_neurons", kind="heatmap", ax=ax2)
plt.show()
