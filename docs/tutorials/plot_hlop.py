"""
Continual learning with Hebbian orthogonal projection (HLOP)
=============================================================

A spiking network trained on one task after another forgets the earlier
tasks: the weight updates of a new task change the responses to the old
inputs. HLOP (Xiao et al., ICLR 2024) gives every layer a few lateral
*subspace neurons* that learn, with the Hebbian/anti-Hebbian Oja subspace
rule, the principal subspace of the layer's presynaptic traces. Later weight
updates use the traces with that subspace projected out,
:math:`\\tilde x = x - H^\\top H x`, so they leave the old tasks' inputs alone.

This tutorial

1. shows the lateral neurons finding the principal subspace that an exact SVD
   computes,
2. trains a small LIF network on three permuted-digits tasks with plain
   fine-tuning and with HLOP, and compares the accuracy matrices, the
   continual-evaluation curves and the metrics (ACC, BWT, min-ACC).

The full experiment is ``neuroplast run continual --method hlop`` (see
:mod:`sims.continual`).
"""

# %%
# Lateral neurons learn the principal subspace
# --------------------------------------------
# Traces that lie (up to noise) in a 4-dimensional subspace of a
# 40-dimensional space. Four HLOP neurons learn it batch by batch; the sine of
# the largest principal angle to the exact SVD subspace falls towards zero.
import matplotlib.pyplot as plt
import numpy as np

from plasticity_rules.hlop import HLOPConfig, HLOPLayer
from plasticity_rules.projection import ExactSubspaceProjector

rng = np.random.default_rng(0)
Q, _ = np.linalg.qr(rng.standard_normal((40, 4)))
X = (rng.standard_normal((3000, 4)) * [2.0, 1.6, 1.3, 1.0]) @ Q.T + 0.02 * rng.standard_normal((3000, 40))
exact = ExactSubspaceProjector(40).add_task(X, n_components=4)

layer = HLOPLayer(40, HLOPConfig(lr=0.05, iterations=3), seed=0).add_subspace(4)
angles = []
for i in range(0, 3000, 30):
    layer.update(X[i : i + 30])
    Qh, _ = np.linalg.qr(layer.components_.T)
    s = np.linalg.svd(Qh.T @ exact.basis_, compute_uv=False)
    angles.append(np.sqrt(max(0.0, 1 - s.min() ** 2)))

fig, ax = plt.subplots(figsize=(5, 3), layout="constrained")
ax.semilogy(np.arange(1, len(angles) + 1), angles)
ax.set_xlabel("batch")
ax.set_ylabel("sin(largest principal angle)")
ax.set_title("HLOP neurons vs exact SVD subspace")
print(f"final sin(angle) = {angles[-1]:.3g}, orthonormality error = {layer.orthonormality_error():.3g}")

# %%
# Three permuted-digits tasks: fine-tuning vs HLOP
# ------------------------------------------------
# A 256-64-64-10 LIF network (digits upsampled to 16 x 16, a different pixel
# permutation per task), trained with DSR surrogate gradients on spike
# traces. Both runs use the same stream, network and seed.
from plasticity_rules.cl_strategies import HLOP, Finetune  # noqa: E402
from spiking.feedforward import FeedforwardConfig, FeedforwardSNN  # noqa: E402
from tasks.cl_training import train_stream  # noqa: E402
from tasks.continual import permuted_digits  # noqa: E402

stream = permuted_digits(3, image_size=16, seed=0)
net_config = FeedforwardConfig(n_hidden=(64, 64), n_steps=10)
results = {}
for method, strategy in (("finetune", Finetune()), ("hlop", HLOP(subspace_first=20, subspace_per_task=10))):
    rng = np.random.default_rng(1)  # same seed: same network and batches for both methods
    net = FeedforwardSNN(stream.n_inputs, stream.n_classes, net_config, seed=rng)
    results[method] = train_stream(stream, net, strategy, epochs=2, eval_every=5, eval_samples=60, seed=rng)

fig, axes = plt.subplots(1, 2, figsize=(7, 3), layout="constrained")
for ax, (method, res) in zip(axes, results.items(), strict=True):
    R = 100 * res["R"]
    ax.imshow(R, vmin=0, vmax=100)
    for i in range(3):
        for j in range(3):
            ax.text(j, i, f"{R[i, j]:.0f}", ha="center", va="center", color="w" if R[i, j] < 60 else "k")
    ax.set_title(method)
    ax.set_xticks(range(3))
    ax.set_yticks(range(3))
    ax.set_xlabel("evaluated task")
    ax.set_ylabel("after task")
fig.suptitle("accuracy matrices (%)")

# %%
# Continual evaluation and the stability gap
# ------------------------------------------
# Accuracy of every task seen so far, every 5 training iterations. Without
# protection the old tasks drop as soon as a new task starts (the stability
# gap, measured by min-ACC); with HLOP they stay put.
fig, axes = plt.subplots(1, 2, figsize=(9, 3), sharey=True, layout="constrained")
for ax, (method, res) in zip(axes, results.items(), strict=True):
    for j in range(3):
        ax.plot(res["iteration"], 100 * res["curve"][:, j], label=f"task {j}")
    ax.set_title(method)
    ax.set_xlabel("iteration")
axes[0].set_ylabel("test accuracy (%)")
axes[0].legend()

for method, res in results.items():
    m = res["metrics"]
    print(f"{method:9s} ACC {100 * m['acc']:5.1f}  BWT {100 * m['bwt']:6.1f}  "
          f"forgetting {100 * m['forgetting']:5.1f}  min-ACC {100 * m['min_acc']:5.1f}")
plt.show()
