"""Tests of neuroaix.checks: the shared argument checks and their wording."""

import math
import subprocess
import sys

import numpy as np
import pytest

from neuroaix.checks import (
    bounds_text,
    check_bool,
    check_choice,
    check_int,
    check_number,
    did_you_mean,
    is_integer,
    is_number,
)


def test_check_int_accepts_python_and_numpy_integers():
    assert check_int("n", 3) == 3
    value = check_int("n", np.int64(7), low=0, high=7)
    assert value == 7 and type(value) is int


@pytest.mark.parametrize("bad", [True, False, 1.0, 1.5, "3", None, np.float64(2.0)])
def test_check_int_refuses_non_integers(bad):
    with pytest.raises(TypeError, match=rf"^n must be an integer, not {repr(bad)}$".replace(
            "(", r"\(").replace(")", r"\)")):
        check_int("n", bad)


def test_check_int_range_messages():
    with pytest.raises(ValueError, match=r"^n must be >= 1, not 0$"):
        check_int("n", 0, low=1)
    with pytest.raises(ValueError, match=r"^n must be <= 4, not 5$"):
        check_int("n", 5, high=4)
    with pytest.raises(ValueError, match=r"^cores must lie in \[1, 64\], not 65; use 1 to 64$"):
        check_int("cores", 65, low=1, high=64, fix="use 1 to 64")
    assert check_int("n", 1, low=1, high=1) == 1


def test_check_number_accepts_ints_and_floats():
    value = check_number("dt", 1)
    assert value == 1.0 and type(value) is float
    assert check_number("dt", np.float32(0.5)) == 0.5
    assert check_number("x", math.inf, finite=False) == math.inf


@pytest.mark.parametrize("bad", [True, "0.1", None, 1j])
def test_check_number_refuses_non_numbers(bad):
    with pytest.raises(TypeError, match=r"^dt must be a number in ms, not "):
        check_number("dt", bad, unit="ms")


def test_check_number_refuses_nan_and_inf_by_name():
    with pytest.raises(ValueError, match=r"^t_sim must be a number, not nan; give a finite "):
        check_number("t_sim", math.nan)
    with pytest.raises(ValueError, match=r"^t_sim must be finite, not inf$"):
        check_number("t_sim", math.inf)
    with pytest.raises(ValueError, match=r"^low must be a number, not nan; give a value$"):
        check_number("low", float("nan"), finite=False)


def test_check_number_bounds_open_and_closed():
    with pytest.raises(ValueError, match=r"^dt must be > 0 ms, not 0; use e\.g\. dt=0\.1$"):
        check_number("dt", 0, low=0, low_open=True, unit="ms", fix="use e.g. dt=0.1")
    with pytest.raises(ValueError, match=r"^scale must lie in \(0, 1\], not 1\.5$"):
        check_number("scale", 1.5, low=0, high=1, low_open=True)
    with pytest.raises(ValueError, match=r"^p must lie in \[0, 1\), not 1$"):
        check_number("p", 1, low=0, high=1, high_open=True)
    with pytest.raises(ValueError, match=r"^rate must be >= 0 Hz, not -1\.0$"):
        check_number("rate", -1.0, low=0, unit="Hz")
    assert check_number("scale", 1, low=0, high=1, low_open=True) == 1.0
    assert check_number("g", 0, low=0) == 0.0


def test_bounds_text():
    assert bounds_text(1) == ">= 1"
    assert bounds_text(high=3, high_open=True) == "< 3"
    assert bounds_text(0, 1, low_open=True, unit="ms") == "in (0, 1] ms"


def test_check_bool():
    assert check_bool("flag", True) is True
    assert check_bool("flag", np.bool_(False)) is False
    with pytest.raises(TypeError, match=r"^flag must be True or False, not 1$"):
        check_bool("flag", 1)


def test_check_choice_with_hint():
    assert check_choice("input", "dc", ("poisson", "dc")) == "dc"
    with pytest.raises(ValueError, match=r"^input must be one of 'poisson', 'dc', not 'poison'; "
                                         r"did you mean 'poisson'\?$"):
        check_choice("input", "poison", ("poisson", "dc"))
    with pytest.raises(ValueError, match=r"^input must be one of 'poisson', 'dc', not 'DC'; "
                                         r"did you mean 'dc'\?$"):
        check_choice("input", "DC", ("poisson", "dc"))
    with pytest.raises(ValueError, match=r"^input must be one of 'poisson', 'dc', not 'xyz'$"):
        check_choice("input", "xyz", ["poisson", "dc"])
    with pytest.raises(ValueError, match=r"^input must be one of 'poisson', 'dc', not 3$"):
        check_choice("input", 3, ("poisson", "dc"))
    with pytest.raises(ValueError, match=r"not array"):
        check_choice("input", np.array([1, 2]), ("poisson", "dc"))


def test_did_you_mean_and_predicates():
    assert did_you_mean("wieght", ["weight", "delay"]) == "; did you mean 'weight'?"
    assert did_you_mean("zzz", ["weight"]) == ""
    assert did_you_mean(3, ["weight"]) == ""
    assert is_integer(np.int8(1)) and not is_integer(True) and not is_integer(1.0)
    assert is_number(np.float64(1.0)) and is_number(2) and not is_number(False)


def test_checks_import_nothing_but_the_standard_library():
    code = ("import sys; sys.modules['numpy'] = None; sys.modules['numba'] = None; "
            "import neuroaix.checks as c; assert c.check_int('n', 1) == 1")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
