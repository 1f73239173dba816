"""The bounded summaries of many replications (running moments and the quantile sketch)."""
import numpy as np

from supplysim.experiment.sketch import Moments, QuantileSketch


def test_sketch_is_exact_below_k_and_within_rank_error_beyond():
    rng = np.random.default_rng(3)
    few = rng.normal(size=(50, 4))
    sk = QuantileSketch(k=64)
    for row in few:
        sk.add(row)
    srt = np.sort(few, axis=0)
    # below k every value is kept: the q-quantile is the smallest value whose rank share reaches q
    assert np.array_equal(sk.quantiles([0.5])[0], srt[24])
    many = rng.uniform(size=(5000, 3))
    sk = QuantileSketch(k=64)
    for row in many:
        sk.add(row)
    for q in (0.05, 0.5, 0.95):
        got = sk.quantiles([q])[0]
        ranks = (many < got).mean(axis=0)   # uniform values: rank share of the estimate
        assert np.all(np.abs(ranks - q) < np.log2(5000 / 64) / 64), (q, ranks)


def test_array_summaries_equal_one_summary_per_column():
    rng = np.random.default_rng(5)
    data = rng.gamma(2.0, size=(700, 12, 3))   # replications x months x keys
    whole, mom = QuantileSketch(k=32), Moments((12, 3))
    cols = [(QuantileSketch(k=32), Moments(12)) for _ in range(3)]
    for x in data:
        whole.add(x)
        mom.add(x)
        for j, (s, m) in enumerate(cols):
            s.add(x[:, j])
            m.add(x[:, j])
    qs = [0.05, 0.5, 0.95]
    wq = whole.quantiles(qs)
    for j, (s, m) in enumerate(cols):
        assert np.array_equal(wq[:, :, j], s.quantiles(qs))
        assert np.array_equal(mom.mean[:, j], m.mean) and np.array_equal(mom.var[:, j], m.var)
    assert np.allclose(mom.mean, data.mean(axis=0)) and np.allclose(mom.var, data.var(axis=0, ddof=1))


def test_sketch_keeps_a_copy_of_what_it_is_given():
    sk = QuantileSketch(k=8)
    buf = np.zeros(2)
    for v in range(5):
        buf[:] = v
        sk.add(buf)
    assert np.array_equal(sk.quantiles([1.0])[0], [4.0, 4.0])
    assert np.array_equal(sk.quantiles([0.0])[0], [0.0, 0.0])
