import numpy as np

from spiking.propagation import csr_by_source, is_dense


def test_is_dense_only_for_all_to_all_in_order():
    n = 5
    pre, post = np.repeat(np.arange(n), n), np.tile(np.arange(n), n)
    csr = csr_by_source(pre, post, np.ones(n * n), n)
    assert is_dense(csr["indptr"], csr["post"], n)
    # same count of synapses, one row's targets permuted: the contiguous path would misplace weights
    post2 = post.copy()
    post2[:2] = post2[1::-1]
    csr2 = csr_by_source(pre, post2, np.ones(n * n), n)
    assert not is_dense(csr2["indptr"], csr2["post"], n)
    # one synapse missing
    csr3 = csr_by_source(pre[1:], post[1:], np.ones(n * n - 1), n)
    assert not is_dense(csr3["indptr"], csr3["post"], n)


def test_reservoir_takes_dense_path_for_all_to_all_only():
    from spiking.reservoir import IzhikevichReservoir, preset

    dense = IzhikevichReservoir(preset("izhikevich2003", n_neurons=50), seed=0)
    sparse = IzhikevichReservoir(preset("sparse", n_neurons=50, indegree=10), seed=0)
    assert dense._propagation_arrays["_prop_meta"][1] == 1
    assert sparse._propagation_arrays["_prop_meta"][1] == 0
