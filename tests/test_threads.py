"""neuroaix._threads: the OpenMP wait policy is chosen when threads are first used."""

import os
import subprocess
import sys
import textwrap

import pytest

pytestmark = pytest.mark.backend_independent

#: Runs in a fresh interpreter: a busy machine (load average far above the cores), imports,
#: then a first build; prints the policy after the import and after the build.
_SCRIPT = textwrap.dedent("""
    import os
    os.getloadavg = lambda: (1e9, 1e9, 1e9)
    before = dict(os.environ)
    import neuroaix, neuroaix.engine, neuroaix.engine.mpi
    assert dict(os.environ) == before, "import changed os.environ"
    print(os.environ.get("OMP_WAIT_POLICY"))
    from neuroaix import LIF, Network
    net = Network(dt=0.1, seed=1)
    a = net.add_population("A", 10, LIF())
    net.connect(a, a, "fixed_indegree", indegree=2, weight=10.0, delay=1.0)
    neuroaix.Simulator(net.build(partitions=1, threads=1), threads=1).simulate(1.0)
    print(os.environ.get("OMP_WAIT_POLICY"))
""")


def _run(env_policy):
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if env_policy is not None:
        env["OMP_WAIT_POLICY"] = env_policy
    out = subprocess.run([sys.executable, "-c", _SCRIPT], env=env, capture_output=True,
                         text=True, check=True)
    return out.stdout.split()


def test_import_leaves_the_environment_and_the_first_run_chooses():
    assert _run(None) == ["None", "PASSIVE"]


def test_a_policy_set_by_the_user_wins():
    assert _run("ACTIVE") == ["ACTIVE", "ACTIVE"]
