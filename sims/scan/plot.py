"""Plots of a parameter scan: a metric against one parameter (mean and seed spread), or a heatmap.

``neuroplast scan-plot DIR --x PARAM --y METRIC [--hue PARAM]`` draws

* a **line plot** of the mean of ``METRIC`` over seeds against ``PARAM``, with a
  band of one standard deviation and every seed's value as a dot, one line per
  value of ``--hue``;
* a **heatmap** of the mean over seeds for two parameters (``--x`` across,
  ``--hue`` up) with ``--kind heatmap`` (the default when ``--hue`` has more
  than six numeric values).

Only points with ``status == "done"`` are drawn. Scanned parameters that are
neither ``--x`` nor ``--hue`` are averaged over unless fixed with
``--where PARAM=VALUE``.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["aggregate", "plot_scan"]

_AUTO_HEATMAP_MIN = 7


def _numeric(series) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def _check_columns(df, x, y, hue):
    params = list(df.attrs.get("params", []))
    scanned = list(df.attrs.get("scanned", params))
    metrics = list(df.attrs.get("metrics", []))
    for flag, name in (("--x", x), ("--hue", hue)):
        if name is not None and name not in params:
            raise ValueError(f"{flag}: unknown parameter {name!r}; scanned: {', '.join(scanned)}")
    if y not in metrics:
        raise ValueError(f"--y: unknown metric {y!r}; metrics: {', '.join(metrics) or '(none recorded)'}")
    if hue is not None and hue == x:
        raise ValueError(f"--hue must differ from --x, both are {x!r}")


def aggregate(df, *, x: str, y: str, hue: str | None = None):
    """Mean, standard deviation (ddof=1) and count of ``y`` per ``x`` (and ``hue``) over done rows.

    Returns a DataFrame indexed by ``x`` (or ``(hue, x)``) with columns ``mean``, ``std``, ``n``.
    """
    import pandas as pd

    done = df[df["status"] == "done"]
    vals = pd.to_numeric(done[y], errors="coerce")
    keys = [hue, x] if hue is not None else [x]
    g = vals.groupby([done[k] for k in keys])
    return pd.DataFrame({"mean": g.mean(), "std": g.std(ddof=1), "n": g.count()})


def _filter(df, where: dict):
    import pandas as pd

    params = list(df.attrs.get("params", []))
    for k, v in where.items():
        if k not in params:
            raise ValueError(f"--where: unknown parameter {k!r}; parameters: {', '.join(params)}")
        col = df[k]
        if pd.api.types.is_bool_dtype(col):
            want = str(v).strip().lower() in ("1", "true", "yes", "on")
            mask = col == want
        elif _numeric(col):
            try:
                mask = (col - float(v)).abs() <= 1e-9 * max(1.0, abs(float(v)))
            except ValueError:
                raise ValueError(f"--where: {k} is numeric, got {v!r}") from None
        else:
            mask = col.astype(str) == str(v)
        if not mask.any():
            values = ", ".join(map(str, sorted(col.dropna().unique(), key=str)))
            raise ValueError(f"--where: no rows with {k} = {v!r}; values: {values}")
        df = df[mask]
    return df


def plot_scan(
    directory,
    *,
    x: str,
    y: str,
    hue: str | None = None,
    kind: str = "auto",
    out: str | os.PathLike | None = None,
    where: dict | None = None,
    logx: bool | None = None,
    ax=None,
) -> Path | None:
    """Draw ``y`` against ``x`` from the scan in ``directory`` and save it as PNG.

    Parameters
    ----------
    directory : path
        A scan directory (``neuroplast scan --out``).
    x, y : str
        Scanned parameter and metric.
    hue : str, optional
        A second parameter: one line per value, or the heatmap's vertical axis.
    kind : {"auto", "line", "heatmap"}
    out : path, optional
        PNG file; default ``DIR/scan_<y>_vs_<x>[_by_<hue>].png``. Ignored when ``ax`` is given.
    where : dict, optional
        ``{param: value}`` filters applied first.
    logx : bool, optional
        Logarithmic x axis; default: when positive values span more than two decades.
    ax : matplotlib Axes, optional
        Draw into this axes and save nothing (returns ``None``).
    """
    import matplotlib.pyplot as plt
    import numpy as np

    from .store import load_scan

    if kind not in ("auto", "line", "heatmap"):
        raise ValueError(f"kind must be one of auto, line, heatmap, got {kind!r}")
    df = load_scan(directory)
    _check_columns(df, x, y, hue)
    df = _filter(df, dict(where or {}))
    done = df[df["status"] == "done"]
    if done.empty:
        raise ValueError(f"no finished points to plot in {str(directory)!r}")
    if not _numeric(done[y]):
        raise ValueError(f"--y: metric {y!r} is not numeric")
    if kind == "heatmap" and hue is None:
        raise ValueError("a heatmap needs two parameters: give --hue")
    if kind == "auto":
        kind = (
            "heatmap"
            if (hue is not None and _numeric(done[hue]) and done[hue].nunique() >= _AUTO_HEATMAP_MIN)
            else "line"
        )
    others = [
        p
        for p in df.attrs.get("scanned", [])
        if p not in (x, hue) and p not in (where or {}) and done[p].nunique() > 1
    ]
    averaged = "seeds" + ("".join(f", {p}" for p in others))

    own_fig = ax is None
    if own_fig:
        fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    else:
        fig = ax.figure
    xs = done[x]
    if logx is None:
        logx = bool(_numeric(xs) and (xs > 0).all() and xs.max() / xs.min() > 100)

    if kind == "line":
        agg = aggregate(done, x=x, y=y, hue=hue)
        groups = (
            [(None, agg)]
            if hue is None
            else [(h, agg.xs(h, level=0)) for h in agg.index.levels[0] if h in agg.index.get_level_values(0)]
        )
        for h, sub in groups:
            label = None if h is None else f"{hue} = {h}"
            pos = np.arange(len(sub)) if not _numeric(xs) else sub.index.to_numpy(dtype=float)
            (line,) = ax.plot(pos, sub["mean"], marker="o", label=label)
            std = sub["std"].fillna(0.0).to_numpy()
            ax.fill_between(
                pos, sub["mean"] - std, sub["mean"] + std, color=line.get_color(), alpha=0.2, lw=0
            )
            rows = done if h is None else done[done[hue] == h]
            if _numeric(xs):
                px = rows[x].astype(float)
            else:
                px = rows[x].map(dict(zip(sub.index, pos, strict=True)))
            ax.scatter(px, rows[y], s=9, color=line.get_color(), alpha=0.45, lw=0)
            if not _numeric(xs):
                ax.set_xticks(pos, [str(v) for v in sub.index])
        if logx and _numeric(xs):
            ax.set_xscale("log")
        ax.set_xlabel(x)
        ax.set_ylabel(f"{y} (mean ± sd over {averaged})")
        if hue is not None:
            ax.legend(fontsize="small")
        ax.grid(alpha=0.3)
    else:
        agg = aggregate(done, x=x, y=y, hue=hue)["mean"].unstack(level=1)  # rows: hue, columns: x
        im = ax.imshow(agg.to_numpy(dtype=float), origin="lower", aspect="auto", cmap="viridis")
        ax.set_xticks(
            range(agg.shape[1]),
            [f"{v:.3g}" if isinstance(v, float) else str(v) for v in agg.columns],
            rotation=45 if agg.shape[1] > 6 else 0,
        )
        ax.set_yticks(
            range(agg.shape[0]), [f"{v:.3g}" if isinstance(v, float) else str(v) for v in agg.index]
        )
        ax.set_xlabel(x)
        ax.set_ylabel(hue)
        fig.colorbar(im, ax=ax, label=f"{y} (mean over {averaged})")
        if agg.size <= 64:
            for (i, j), v in np.ndenumerate(agg.to_numpy(dtype=float)):
                if np.isfinite(v):
                    # dark text on the light end of viridis, white on the dark end: always legible
                    r, g, b, _ = im.cmap(im.norm(v))
                    dark_bg = 0.299 * r + 0.587 * g + 0.114 * b < 0.5
                    ax.text(j, i, f"{v:.3g}", ha="center", va="center", fontsize="medium",
                            color="w" if dark_bg else "k")
    sim = df.attrs.get("simulation", "")
    ax.set_title(
        f"{sim} scan: {y}" + (f" ({', '.join(f'{k}={v}' for k, v in where.items())})" if where else "")
    )
    if not own_fig:
        return None
    if out is None:
        out = Path(directory) / (f"scan_{y}_vs_{x}" + (f"_by_{hue}" if hue else "") + ".png")
    out = Path(out)
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fig.savefig(out, dpi=120)
    except OSError as exc:
        raise ValueError(f"cannot write plot {str(out)!r}: {exc.strerror or exc}") from None
    finally:
        plt.close(fig)
    return out
