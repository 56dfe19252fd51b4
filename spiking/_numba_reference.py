"""Hand-written Numba Izhikevich (2003) network: the speed and behaviour reference.

A direct transliteration of the paper's MATLAB program (``spnet`` in
Izhikevich 2003, Fig. 3): 1 ms steps, ``v`` integrated in two 0.5 ms half-steps,
noise ``5 N(0,1)`` / ``2 N(0,1)`` per ms, all-to-all weights ``0.5 U`` / ``-U``.
It is what this machine can do without a simulator, and an independent check
of the Brian2 reservoir's regime. Not part of the public API.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _simulate(a, b, c, d, S, sigma, n_steps, rng):
    n = a.shape[0]
    v = np.full(n, -65.0)
    u = b * v
    I = np.empty(n)
    fired_idx = np.empty(n, np.int64)
    out_i = []
    out_t = []
    for t in range(n_steps):
        for k in range(n):
            I[k] = sigma[k] * rng.standard_normal()
        nf = 0
        for k in range(n):
            if v[k] >= 30.0:
                fired_idx[nf] = k
                nf += 1
                out_i.append(k)
                out_t.append(t)
                v[k] = c[k]
                u[k] += d[k]
        for f in range(nf):
            col = fired_idx[f]
            for k in range(n):
                I[k] += S[k, col]
        for k in range(n):
            vk = v[k]
            vk += 0.5 * (0.04 * vk * vk + 5.0 * vk + 140.0 - u[k] + I[k])
            vk += 0.5 * (0.04 * vk * vk + 5.0 * vk + 140.0 - u[k] + I[k])
            v[k] = vk
            u[k] += a[k] * (b[k] * vk - u[k])
    return np.array(out_i, dtype=np.int64), np.array(out_t, dtype=np.float64) * 1e-3


def izhikevich2003_numba(duration: float, seed: int = 0, n_exc: int = 800, n_inh: int = 200):
    """Simulate the paper's network for ``duration`` s; return spike ``(indices, times)``."""
    rng = np.random.default_rng(seed)
    re, ri = rng.random(n_exc), rng.random(n_inh)
    a = np.concatenate([np.full(n_exc, 0.02), 0.02 + 0.08 * ri])
    b = np.concatenate([np.full(n_exc, 0.2), 0.25 - 0.05 * ri])
    c = np.concatenate([-65 + 15 * re**2, np.full(n_inh, -65.0)])
    d = np.concatenate([8 - 6 * re**2, np.full(n_inh, 2.0)])
    n = n_exc + n_inh
    scale = 1000.0 / n
    S = np.hstack([0.5 * scale * rng.random((n, n_exc)), -scale * rng.random((n, n_inh))])
    sigma = np.concatenate([np.full(n_exc, 5.0), np.full(n_inh, 2.0)])
    return _simulate(a, b, c, d, np.ascontiguousarray(S), sigma, int(round(duration * 1000)), rng)
