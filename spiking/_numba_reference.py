"""Hand-written Numba Izhikevich (2003) network: the speed and behaviour reference.

A direct transliteration of the paper's MATLAB program (``spnet`` in
Izhikevich 2003, Fig. 3). Per 1 ms step :math:`t`:

.. math::

    I_k &= \\sigma_k \\xi_{t,k} + \\sum_{j \\in F_t} S_{kj},
    \\qquad F_t = \\{j : v_j \\ge 30\\},\\ v_j \\leftarrow c_j,\\ u_j \\leftarrow u_j + d_j
    \\ \\text{for } j \\in F_t, \\\\
    v_k &\\leftarrow v_k + 0.5\\,(0.04 v_k^2 + 5 v_k + 140 - u_k + I_k) \\quad\\text{(twice)}, \\\\
    u_k &\\leftarrow u_k + a_k (b_k v_k - u_k),

with :math:`\\xi_{t,k} \\sim \\mathcal{N}(0, 1)` drawn step by step, neuron by neuron,
from a :class:`numpy.random.Generator` (noise ``5`` / ``2`` and all-to-all weights
``0.5 U`` / ``-U`` in the paper). Weights are stored by presynaptic neuron
(CSR: ``indptr`` of shape ``(n + 1,)``, ``post`` and ``weight`` of shape
``(n_synapses,)``), and a neuron's synaptic input is summed in the order of its
presynaptic neurons before the noise is added, and the right-hand side is summed
in the order Brian2's generated code sums it, so given the same structure and noise stream the two
engines perform the same floating-point operations. It is what this machine
can do without a simulator, and an independent check of the Brian2
reservoir's numerics. Not part of the public API.
"""

from __future__ import annotations

import numpy as np
from numba import njit


@njit(cache=True)
def _simulate(a, b, c, d, indptr, post, weight, sigma, v0, n_steps, rng):
    n = a.shape[0]
    v = v0.copy()
    u = b * v
    syn = np.zeros(n)
    fired = np.empty(n, np.int64)
    out_i = []
    out_t = []
    for t in range(n_steps):
        nf = 0
        for k in range(n):
            if v[k] >= 30.0:
                fired[nf] = k
                nf += 1
                out_i.append(k)
                out_t.append(t)
                v[k] = c[k]
                u[k] = u[k] + d[k]
        for f in range(nf):
            j = fired[f]
            for s in range(indptr[j], indptr[j + 1]):
                syn[post[s]] += weight[s]
        for k in range(n):
            # The paper draws the step's noise first; drawing it here consumes the
            # stream in the same order (neuron 0..n-1, step after step).
            ik = syn[k] + sigma[k] * rng.standard_normal()
            vk = v[k]
            # 0.04 v^2 + 5 v + 140 - u + I, summed in the order Brian2's code generation
            # (sympy) emits it, so that both engines round identically.
            vk = vk + 0.5 * ((140.0 + ((ik + 0.04 * vk**2) + 5.0 * vk)) - u[k])
            vk = vk + 0.5 * ((140.0 + ((ik + 0.04 * vk**2) + 5.0 * vk)) - u[k])
            v[k] = vk
            u[k] = u[k] + a[k] * (b[k] * vk - u[k])
            syn[k] = 0.0
    return np.array(out_i, dtype=np.int64), np.array(out_t, dtype=np.int64)


def simulate_reference(a, b, c, d, indptr, post, weight, sigma, n_steps, rng, v_init=-65.0):
    """Run the transliterated program on a given structure.

    Parameters
    ----------
    a, b, c, d, sigma : ndarray, shape ``(n_neurons,)``
        Izhikevich parameters (mV, ms units) and noise amplitudes.
    indptr : ndarray, shape ``(n_neurons + 1,)``
    post : ndarray of int, shape ``(n_synapses,)``
    weight : ndarray, shape ``(n_synapses,)``
        Synapses grouped by presynaptic neuron (CSR by row = presynaptic neuron).
    n_steps : int
        Number of 1 ms steps.
    rng : numpy.random.Generator
        The noise stream.

    Returns
    -------
    indices, steps : ndarray of int, shape ``(n_spikes,)``
        Spiking neuron and the step at whose start it was detected (``v >= 30``).
    """
    f8 = lambda x: np.ascontiguousarray(x, dtype=np.float64)  # noqa: E731
    i8 = lambda x: np.ascontiguousarray(x, dtype=np.int64)  # noqa: E731
    v0 = np.full(len(a), float(v_init))
    return _simulate(
        f8(a), f8(b), f8(c), f8(d), i8(indptr), i8(post), f8(weight), f8(sigma), v0, int(n_steps), rng
    )


def reservoir_arrays(reservoir) -> dict:
    """The structure of a built :class:`spiking.reservoir.IzhikevichReservoir` as reference inputs."""
    G = reservoir._objects["reservoir"]
    S = reservoir._objects["recurrent"]
    pre, post, w = np.asarray(S.i[:]), np.asarray(S.j[:]), np.asarray(S.w[:])
    order = np.argsort(pre, kind="stable")  # Brian2 keeps a presynaptic neuron's synapses in this order
    n = len(G)
    return {
        "a": np.asarray(G.a[:]),
        "b": np.asarray(G.b[:]),
        "c": np.asarray(G.c[:]),
        "d": np.asarray(G.d[:]),
        "indptr": np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n))]),
        "post": post[order],
        "weight": w[order],
        "sigma": np.asarray(G.sigma_noise[:]),
    }


def paper_network(n_exc: int, n_inh: int, rng, *, indegree: int | None = None, w_exc=0.5, w_inh=1.0):
    """The paper's heterogeneous network as reference inputs (a dict for :func:`simulate_reference`).

    ``indegree=None``: all-to-all with weights ``w_exc U`` / ``-w_inh U`` scaled by
    ``1000 / n`` (the paper's ``S``); else each neuron gets ``indegree`` distinct sources
    (weights not scaled). Structure is drawn from ``rng`` before any noise, as in the paper.
    """
    from .reservoir import indegree_pairs  # NumPy only: spiking.reservoir imports Brian2 lazily

    re, ri = rng.random(n_exc), rng.random(n_inh)
    n = n_exc + n_inh
    out = {
        "a": np.concatenate([np.full(n_exc, 0.02), 0.02 + 0.08 * ri]),
        "b": np.concatenate([np.full(n_exc, 0.2), 0.25 - 0.05 * ri]),
        "c": np.concatenate([-65 + 15 * re**2, np.full(n_inh, -65.0)]),
        "d": np.concatenate([8 - 6 * re**2, np.full(n_inh, 2.0)]),
        "sigma": np.concatenate([np.full(n_exc, 5.0), np.full(n_inh, 2.0)]),
    }
    if indegree is None:
        scale = 1000.0 / n
        S = np.hstack([w_exc * scale * rng.random((n, n_exc)), -w_inh * scale * rng.random((n, n_inh))])
        out.update(indptr=np.arange(0, n * n + 1, n), post=np.tile(np.arange(n), n), weight=S.T.ravel())
    else:
        pre, post = indegree_pairs(n, indegree, rng)
        u = rng.random(pre.size)
        out.update(
            indptr=np.concatenate([[0], np.cumsum(np.bincount(pre, minlength=n))]),
            post=post,
            weight=np.where(pre < n_exc, w_exc * u, -w_inh * u),
        )
    return out


def izhikevich2003_numba(duration: float, seed: int = 0, n_exc: int = 800, n_inh: int = 200):
    """Simulate the paper's network for ``duration`` s; return spike ``(indices, times)``.

    Structure and noise come from one ``default_rng(seed)``, as in the paper's
    program (structure first); all-to-all weights are scaled by ``1000 / n``.
    """
    rng = np.random.default_rng(seed)
    net = paper_network(n_exc, n_inh, rng)
    i, steps = simulate_reference(**net, n_steps=int(round(duration * 1000)), rng=rng)
    return i, steps * 1e-3
