"""neuroaix._threads: the barrier's spinning is bounded when threads are first used."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.backend_independent

#: Runs in a fresh interpreter: imports, then a first build; prints the spin count after the
#: import and after the build.
_SCRIPT = textwrap.dedent("""
    import os
    before = dict(os.environ)
    import neuroaix, neuroaix.engine, neuroaix.engine.mpi
    assert dict(os.environ) == before, "import changed os.environ"
    print(os.environ.get("GOMP_SPINCOUNT"))
    from neuroaix import LIF, Network
    net = Network(dt=0.1, seed=1)
    a = net.add_population("A", 10, LIF())
    net.connect(a, a, "fixed_indegree", indegree=2, weight=10.0, delay=1.0)
    neuroaix.Simulator(net.build(partitions=1, threads=1), threads=1).simulate(1.0)
    print(os.environ.get("GOMP_SPINCOUNT"))
""")


def _run(**user):
    env = {k: v for k, v in os.environ.items()
           if k not in ("OMP_WAIT_POLICY", "GOMP_SPINCOUNT")} | user
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def test_import_leaves_the_environment_and_the_first_run_chooses():
    from neuroaix._threads import SHARED_SPIN_COUNT, SPIN_COUNT

    before, after = _run()
    assert before == "None" and after in (str(SPIN_COUNT), str(SHARED_SPIN_COUNT))


def test_the_spin_is_short_while_other_work_runs(monkeypatch):
    from neuroaix import _threads

    monkeypatch.delenv("OMP_WAIT_POLICY", raising=False)
    monkeypatch.delenv("GOMP_SPINCOUNT", raising=False)
    for others, want in ((0, _threads.SPIN_COUNT), (64, _threads.SHARED_SPIN_COUNT)):
        monkeypatch.setattr(_threads, "_chosen", False)
        monkeypatch.setattr(_threads, "_others_running", lambda n=others: n)
        assert _threads.choose_wait_policy() == str(want)
        monkeypatch.delenv("GOMP_SPINCOUNT")


def test_a_policy_set_by_the_user_wins():
    assert _run(OMP_WAIT_POLICY="ACTIVE") == ["None", "None"]
    assert _run(GOMP_SPINCOUNT="5") == ["5", "5"]
