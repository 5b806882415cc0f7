"""Regenerate tests/data/numerics_vectors.json from neuroaix.numerics.

Run only when docs/numerics.md changes (and say so in the commit): the vectors pin the
contract for every consumer, including the RTL testbenches.
"""

import json
import pathlib

import numpy as np

from neuroaix import LIF
from neuroaix import numerics as nx

OUT = pathlib.Path(__file__).with_name("numerics_vectors.json")


def _lif_cases(name, lif, rng, n):
    coef = lif.quantise(0.1)
    cases = []
    s = nx.LIFState(0, 0, 0, 0)
    for k in range(n):
        in_ex = int(rng.poisson(4.0)) * nx.pa_to_fixed(87.81)
        in_in = -int(rng.poisson(0.5)) * nx.pa_to_fixed(351.24)
        if k % 100 == 49:  # occasional saturating input on either channel
            in_ex = nx.INT32_MAX
        elif k % 100 == 99:
            in_in = nx.INT32_MIN
        out, spiked, sat = nx.lif_update(s, in_ex, in_in, coef)
        cases.append({"state": list(s), "in_ex": in_ex, "in_in": in_in,
                      "out": list(out), "spiked": spiked, "saturations": sat})
        s = out
    return {"name": name, "coefficients": coef._asdict(), "cases": cases}


def main():
    rng = np.random.default_rng(20231)
    vec = {}
    vec["round_shift"] = [[x, s, nx.round_shift(x, s)]
                          for x in (-5, -4, -3, -2, -1, 0, 1, 2, 3, 4, 5, 2**40 + 2**29,
                                    -(2**40) - 2**29, 2**61 - 1, -(2**61))
                          for s in (1, 2, 30)]
    vec["saturate"] = [[x, *nx.saturate(x)] for x in (0, 2**31 - 1, 2**31, -(2**31),
                                                       -(2**31) - 1, 2**40, -(2**40))]
    vec["splitmix64"] = [[z, nx.splitmix64(z)] for z in (0, 1, 2**63, 2**64 - 1, 12345)]
    vec["stream_key"] = [[[12345, 0, 7], nx.stream_key(12345, 0, 7)],
                         [[1, 1, 3, 99], nx.stream_key(1, 1, 3, 99)],
                         [[0], nx.stream_key(0)]]
    seq = []
    for seed, gid in ((12345, 0), (12345, 77168), (1, 5)):
        st = nx.background_seed(seed, gid)
        draws = []
        for _ in range(16):
            st, u = nx.xorshift64star(st)
            draws.append([st, u])
        seq.append({"seed": seed, "gid": gid, "state0": nx.background_seed(seed, gid),
                    "draws": draws})
    vec["xorshift64star"] = seq
    tables = {}
    for lam in (0.0, 0.16, 1.2, 1.6, 2.4, 7.5):
        t = nx.poisson_table(lam)
        us = [0, 1, t[0] - 1, t[0], t[1], 2**31, 2**32 - 1] + [int(x) for x in
                                                               rng.integers(0, 2**32, 8)]
        tables[repr(lam)] = {"table": list(t),
                             "counts": [[u, nx.poisson_count(u, t)] for u in us]}
    vec["poisson"] = tables
    vec["lif_update"] = [
        _lif_cases("microcircuit", LIF(), rng, 400),
        _lif_cases("brunel", LIF(C_m=250.0, tau_m=20.0, t_ref=2.0, E_L=0.0, V_th=20.0,
                                 V_reset=10.0, tau_syn_ex=0.5, tau_syn_in=0.5), rng, 400),
        _lif_cases("equal_taus", LIF(tau_m=5.0, tau_syn_ex=5.0, tau_syn_in=2.0, I_e=300.0),
                   rng, 200),
    ]
    OUT.write_text(json.dumps(vec, indent=None, separators=(",", ":")) + "\n")


if __name__ == "__main__":
    main()
