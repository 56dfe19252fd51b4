"""
Parameter scans: many points, many seeds, one table
===================================================

``neuroplast scan`` runs a simulation over a grid (or random draws) of its
parameters, each point with several seeds, on a Dask cluster, and keeps
every finished point in a durable store you read back as one pandas
DataFrame. Here we scan how the firing rates of the heterogeneous Izhikevich
(2003) reservoir depend on its recurrent weight scale and size.

From the shell the same scan is::

    neuroplast scan scan.toml --dry-run   # the points, nothing runs
    neuroplast scan scan.toml --out scans/rates   # local Dask cluster
    neuroplast scan-plot scans/rates --x weight_scale \\
        --y mean_rate_exc_hz --hue n_neurons

To keep this page quick, points run one after the other in this process
(``serial=True``) with Brian2's NumPy target (nothing to compile) and short
runs; a real scan leaves both at their defaults.
"""

# %%
# The spec
# --------
# A TOML file names the simulation, the fixed parameters, the scanned ones
# (lists, ``{start, stop, step}`` ranges, ``{start, stop, num, log = true}``
# log-ranges or ``{random = ..., count = ...}`` draws), the metrics to keep
# and the number of seeds. It is checked completely before anything runs.
import tempfile
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt

from sims.scan import describe, load_scan, load_spec, run_scan
from sims.scan.plot import plot_scan

work = Path(tempfile.mkdtemp(prefix="neuroplast_scan_"))
spec_file = work / "scan.toml"


def show(message):
    """Print without the temporary directory's name (shorter lines)."""
    print(str(message).replace(f"{work}/", ""))


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
show(describe(spec))

# %%
# Mistakes are caught before anything runs, with the key that is wrong:
for bad in (
    "n_neuron = [100, 200]",
    "weight_scale = { start = 1.0, stop = 0.5, step = 0.25 }",
    'n_neurons = [100, "many"]',
):
    try:
        load_spec_text = (
            spec_file.read_text().split("[scan]")[0]
            + "[scan]\n"
            + bad
            + "\n"
        )
        (work / "bad.toml").write_text(load_spec_text)
        load_spec(work / "bad.toml")
    except ValueError as exc:
        msg = "rejected: " + str(exc).split(": ", 1)[1]
        print(textwrap.fill(msg, 74, subsequent_indent="  "))

# %%
# Running, and resuming
# ---------------------
# Every finished point is written to ``out/scan.sqlite`` at once, in its own
# transaction. Running the same spec again skips what is done (and retries
# what failed), so an interrupted scan just continues. Without
# ``serial=True`` the points go to a local Dask cluster (one worker process
# per core), or with ``scheduler="tcp://host:8786"`` to any running Dask
# cluster.
out = work / "rates"
summary = run_scan(
    spec, out, serial=True, max_points=8, log=show
)  # stop early, as if interrupted
summary = run_scan(
    spec, out, serial=True, log=show
)  # the same command again: only the rest runs

# %%
# One table
# ---------
# :func:`~sims.scan.store.load_scan` returns one row per (point, seed) with
# the parameters, the metrics, status, error, timing and versions.
df = load_scan(out)
cols = [
    "point",
    "seed",
    "weight_scale",
    "n_neurons",
    "mean_rate_exc_hz",
    "status",
]
print(df[cols].head(8).round(2).to_string(index=False))
rates = df.groupby(["n_neurons", "weight_scale"])["mean_rate_exc_hz"]
table = rates.agg(["mean", "std"]).round(2)
print(table)

# %%
# Plots
# -----
# A metric against one parameter, mean and one standard deviation over seeds
# (dots: single seeds), one line per value of a second parameter; or a
# heatmap over two parameters. ``neuroplast scan-plot`` writes the same
# plots to PNG.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 4), layout="constrained")
plot_scan(
    out, x="weight_scale", y="mean_rate_exc_hz", hue="n_neurons", ax=ax1
)
plot_scan(
    out,
    x="weight_scale",
    y="mean_rate_inh_hz",
    hue="n_neurons",
    kind="heatmap",
    ax=ax2,
)
plt.show()

# %%
# What the figures show
# ---------------------
# Rates rise slowly with the recurrent weight scale up to 0.75 and steeply
# beyond, where the network enters its bursting regime; there the two seeds
# can differ by several Hz (the table's standard deviations), so two seeds
# are too few to read small differences. Sizes 100 and 200 give similar
# rates at low weight scales because weights are rescaled by 1000/N. The
# numbers, computed above (excitatory rate, Hz, mean over seeds):
mean = table["mean"].unstack("weight_scale")
for n, row in mean.iterrows():
    print(
        f"n_neurons {n}: "
        + ", ".join(f"{w:g}: {r:.1f}" for w, r in row.items())
    )
n_runs = len(df)
print(
    f"{n_runs} runs, {int((df['status'] == 'done').sum())} done; "
    f"the second call ran only the {n_runs - 8} left"
)
