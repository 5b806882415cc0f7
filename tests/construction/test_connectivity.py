"""Tests of neuroaix.construction.connectivity and its kernels: streams, samplers, tables."""

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from neuroaix import formats
from neuroaix import numerics as nx
from neuroaix.construction import _kernels as k
from neuroaix.construction import connectivity as conn

# Streams ------------------------------------------------------------------------------------


@pytest.mark.parametrize("z", [0, 1, 12345, 2**63 - 1, 2**63, 2**64 - 1, 0x9E3779B97F4A7C15])
def test_splitmix64_equals_numerics(z):
    assert int(k._splitmix64(np.uint64(z))) == nx.splitmix64(z)


def test_stream_key_and_draws_equal_numerics():
    rng = np.random.default_rng(1)
    for _ in range(50):
        seed = int(rng.integers(0, 2**63)) * 2 + int(rng.integers(0, 2))
        words = [int(x) for x in rng.integers(0, 2**62, size=int(rng.integers(0, 5)))]
        key = nx.stream_key(seed, *words)
        assert int(k._stream_key(np.uint64(seed), np.array(words, dtype=np.uint64))) == key
        for i in (0, 1, 7, 2**40):
            assert int(k._draw(np.uint64(key), i)) == nx.stream_draw(key, i)


def test_mix_chain_is_stream_key():
    key = np.uint64(k._splitmix64(np.uint64(99)))
    for word in (1, 5):
        key = np.uint64(k._mix(key, np.uint64(word)))
    assert int(key) == nx.stream_key(99, 1, 5)


def test_below_is_exact_high_product():
    rng = np.random.default_rng(2)
    for x in [0, 2**64 - 1, *(int(v) for v in rng.integers(0, 2**63, 200))]:
        for m in (1, 2, 3, 1000, 77169, 2**32 - 1):
            assert k._below(np.uint64(x), m) == (x * m) >> 64


def test_u01_uses_upper_53_bits():
    assert k._u01(np.uint64(2**64 - 1)) == (2**53 - 1) / 2**53
    assert k._u01(np.uint64(2**11 - 1)) == 0.0


# Samplers -----------------------------------------------------------------------------------


@pytest.mark.parametrize("n,p", [(10, 0.3), (1000, 0.01), (200000, 0.37), (5, 0.999)])
def test_binomial_matches_distribution(n, p):
    u = (np.arange(4000) + 0.5) / 4000  # stratified uniforms: an inverse-CDF check
    x = np.array([k._binomial(v, n, p) for v in u])
    assert x.min() >= 0 and x.max() <= n
    sd = math.sqrt(n * p * (1 - p))
    assert abs(x.mean() - n * p) < 0.05 * sd + 1e-9
    assert abs(x.std() - sd) < 0.05 * sd + 0.05
    # mode-centred inversion reorders outcomes but keeps their probabilities
    vals, cnt = np.unique(x, return_counts=True)
    expect = stats.binom.pmf(vals, n, p) * len(u)
    big = expect > 50
    assert np.all(np.abs(cnt[big] - expect[big]) <= 2 + 0.01 * expect[big])


def test_hypergeometric_matches_distribution():
    total, good, draws = 50000, 1300, 2000
    u = (np.arange(4000) + 0.5) / 4000
    x = np.array([k._hypergeometric(v, total, good, draws) for v in u])
    d = stats.hypergeom(total, good, draws)
    assert abs(x.mean() - d.mean()) < 0.05 * d.std()
    assert abs(x.std() - d.std()) < 0.05 * d.std()
    assert k._hypergeometric(0.5, 10, 10, 4) == 4
    assert k._hypergeometric(0.5, 10, 0, 4) == 0


def _spec(rule, n_pre=300, n_post=700, **kw):
    base = {"rule": rule, "pre_start": 0, "n_pre": n_pre, "post_start": n_pre, "n_post": n_post,
                "same_pop": False, "allow_autapses": True, "allow_multapses": True, "w_mean": 1.0,
                "d_mean": 1.0}
    base.update(kw)
    return conn.ProjectionSpec(**base)


def test_split_total_number_sums_and_respects_capacity():
    spec = _spec("fixed_total_number", n_total=123456)
    split = conn.split_total_number(spec, 5, 3)
    assert split.sum() == 123456 and len(split) == spec.n_blocks
    cap = conn.block_capacities(spec)
    # multinomial: each block within 6 sigma of its share
    share = cap / cap.sum() * 123456
    assert np.all(np.abs(split - share) < 6 * np.sqrt(share) + 1)
    full = _spec("fixed_total_number", n_pre=10, n_post=600, allow_multapses=False,
                 n_total=5990)
    s2 = conn.split_total_number(full, 5, 0)
    assert s2.sum() == 5990 and np.all(s2 <= conn.block_capacities(full))


def test_split_total_number_is_reproducible():
    spec = _spec("fixed_total_number", n_total=5000)
    a = conn.split_total_number(spec, 11, 2)
    assert np.array_equal(a, conn.split_total_number(spec, 11, 2))
    assert not np.array_equal(a, conn.split_total_number(spec, 11, 3))


# Tables --------------------------------------------------------------------------------------


def test_delay_step_table_is_the_rounded_distribution():
    k0, table = conn.delay_step_table(1.5, 0.75, 0.05, math.inf, 0.1)
    assert k0 == 1 and table[-1] == 1.0
    assert all(a <= b for a, b in itertools.pairwise(table))
    d = stats.truncnorm((0.05 - 1.5) / 0.75, np.inf, loc=1.5, scale=0.75)
    for j in (0, 5, 14, 30):
        edge = (k0 + j + 0.5) * 0.1
        assert table[j] == pytest.approx(d.cdf(edge), abs=1e-12)


def test_alias_table_reproduces_the_distribution():
    _, table = conn.delay_step_table(0.75, 0.375, 0.05, math.inf, 0.1)
    alias = conn.alias_table(table)
    n = len(table)
    probs = np.diff(np.concatenate([[0.0], table]))
    back = alias[0].copy()
    for i in range(n):
        if alias[0, i] < 1.0:
            back[int(alias[1, i])] += 1.0 - alias[0, i]
    np.testing.assert_allclose(back / n, probs, rtol=0, atol=1e-15)
    assert np.all(alias[1] == np.round(alias[1])) and alias[1].max() < n


def test_delay_step_table_errors():
    with pytest.raises(ValueError, match=r"^delay low=0\.01 ms can round to 0 steps"):
        conn.delay_step_table(1.0, 0.5, 0.01, math.inf, 0.1)
    with pytest.raises(ValueError, match=r"^delay Normal\(1\.0, 0\.5\) has low=-inf ms"):
        conn.delay_step_table(1.0, 0.5, -math.inf, math.inf, 0.1)
    with pytest.raises(ValueError, match=r"reaches beyond 255 steps .* bound it with high"):
        conn.delay_step_table(20.0, 5.0, 0.05, math.inf, 0.1)


@pytest.mark.parametrize("bits", [1, 2, 4, 8])
def test_low_resolution_levels_preserve_mean_and_variance(bits):
    mean, std, lo, hi = 87.81, 8.781, 0.0, math.inf
    levels, a, width = conn.low_resolution_levels(mean, std, lo, hi, bits)
    assert len(levels) == 2**bits and np.all(np.diff(levels) > 0)
    # exact (analytic) moments of the discrete distribution
    edges = [lo] + [a + i * width for i in range(1, 2**bits)] + [hi]
    d = stats.truncnorm((lo - mean) / std, np.inf, loc=mean, scale=std)
    probs = np.diff(d.cdf(edges))
    vals = levels / 2**nx.I_FRAC_BITS
    m = np.sum(probs * vals)
    v = np.sum(probs * (vals - m) ** 2)
    assert m == pytest.approx(d.mean(), abs=2**-13)
    assert v == pytest.approx(d.var(), rel=1e-5)  # levels are rounded to 2**-12 pA


# Builds --------------------------------------------------------------------------------------


def _table(store, n_parts):
    out = []
    for p in range(n_parts):
        rp = store.row_ptr[p]
        words = store.words[store.base[p]:store.base[p + 1]]
        for s in range(len(rp) - 1):
            t, w, d = formats.unpack_synapses(words[rp[s]:rp[s + 1]])
            out.append((s, p, (t.astype(np.int64) * n_parts + p).tolist(), w.tolist(),
                        d.tolist()))
    return out


@pytest.mark.parametrize("rule,kw", [
    ("fixed_total_number", {"n_total": 9000}),
    ("fixed_indegree", {"degree": 13, "allow_multapses": False}),
    ("fixed_outdegree", {"degree": 21}),
    ("pairwise_bernoulli", {"p": 0.05}),
    ("all_to_all", {}),
])
def test_rows_are_subsequences_of_the_single_partition_rows(rule, kw):
    spec = _spec(rule, w_std=0.3, w_low=0.0, d_mean=1.5, d_std=0.7, d_low=0.05, **kw)
    n = spec.n_pre + spec.n_post
    one = conn.build_synapses([spec], n_neurons=n, n_parts=1, threads=1, seed=3, dt=0.1)
    rows = {s: (tg, w, d) for s, _, tg, w, d in _table(one, 1)}
    for n_parts, threads in ((4, 2), (35, 3), (1, 2)):
        many = conn.build_synapses([spec], n_neurons=n, n_parts=n_parts, threads=threads,
                                   seed=3, dt=0.1)
        for s, p, tg, w, d in _table(many, n_parts):
            full = rows[s]
            keep = [i for i, t in enumerate(full[0]) if t % n_parts == p]
            assert tg == [full[0][i] for i in keep]
            assert w == [full[1][i] for i in keep]
            assert d == [full[2][i] for i in keep]


def test_build_reports_weights_outside_int32():
    spec = _spec("fixed_indegree", degree=5, w_mean=524000.0, w_std=3000.0)
    with pytest.raises(ValueError, match=r"^projection 0: \d+ weights do not fit int32"):
        conn.build_synapses([spec], n_neurons=1000, n_parts=1, threads=1, seed=1, dt=0.1)


def test_initial_potentials_follow_the_init_stream():
    v = conn.draw_initial_potentials(42, 10, 5, mean=-60.0, std=0.0, low=-math.inf,
                                     high=math.inf, e_l=-65.0)
    assert v.tolist() == [nx.mv_to_fixed(5.0)] * 5
    a = conn.draw_initial_potentials(42, 10, 5, mean=-60.0, std=4.0, low=-math.inf,
                                     high=math.inf, e_l=-65.0)
    b = conn.draw_initial_potentials(42, 12, 3, mean=-60.0, std=4.0, low=-math.inf,
                                     high=math.inf, e_l=-65.0)
    assert a[2:].tolist() == b.tolist()
    key = nx.stream_key(42, nx.STREAM_INIT, 10)
    u1 = (nx.stream_draw(key, 0) >> 11) / 2**53
    u2 = (nx.stream_draw(key, 1) >> 11) / 2**53
    x = -60.0 + 4.0 * (math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2))
    assert a[0] == math.floor((x + 65.0) * 65536.0 + 0.5)


def test_recounting_gives_the_same_storage_as_kept_counts(monkeypatch):
    spec = _spec("fixed_total_number", n_total=7000, w_std=0.2, d_std=0.5, d_mean=1.5,
                 d_low=0.05)
    kw = {"n_neurons": 1000, "n_parts": 7, "threads": 2, "seed": 9, "dt": 0.1}
    kept = conn.build_synapses([spec, spec], **kw)
    monkeypatch.setattr(conn, "_KEEP_COUNTS_BYTES", 0)
    again = conn.build_synapses([spec, spec], **kw)
    np.testing.assert_array_equal(kept.words, again.words)
    np.testing.assert_array_equal(kept.row_ptr, again.row_ptr)


@pytest.mark.parametrize("buffer", [1, 7, 1000])
def test_buffered_writes_give_the_same_storage(monkeypatch, buffer):
    spec = _spec("fixed_total_number", n_total=7000, w_std=0.2, d_std=0.5, d_mean=1.5,
                 d_low=0.05)
    kw = {"n_neurons": 1000, "n_parts": 5, "threads": 2, "seed": 9, "dt": 0.1}
    default = conn.build_synapses([spec], **kw)
    monkeypatch.setattr(conn, "WRITE_BUFFER_SYNAPSES", buffer)
    buffered = conn.build_synapses([spec], **kw)
    np.testing.assert_array_equal(default.words, buffered.words)
