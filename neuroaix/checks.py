"""Argument checks shared by the whole package, in one wording.

Every public constructor and function validates its arguments with these helpers, so that a
wrong value always gives the same kind of message: the argument's name, the bad value as
``repr`` and, where one is known, the fix (Amaranth's wording; house style, "Errors").
``TypeError`` reports a wrong type, ``ValueError`` a wrong value. Booleans are never accepted
as numbers (``True`` is an ``int`` in Python, but never a meaningful count or time).

The module depends on the standard library only, so every layer (the contract, the RTL, the
emulator's configuration) can use it without loading NumPy or Numba; NumPy's integer and
floating scalars are accepted because NumPy registers them with :mod:`numbers`.

Example
-------
>>> from neuroaix.checks import check_choice, check_int, check_number
>>> check_int("partitions", 4, low=1)
4
>>> check_number("dt", 0.1, low=0.0, low_open=True, unit="ms")
0.1
>>> check_choice("input", "DC", ("poisson", "dc"))
Traceback (most recent call last):
...
ValueError: input must be one of 'poisson', 'dc', not 'DC'; did you mean 'dc'?
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import numbers

__all__ = [
    "bounds_text",
    "checked",
    "check_bool",
    "check_choice",
    "check_fields",
    "check_int",
    "check_number",
    "did_you_mean",
    "is_integer",
    "is_number",
]


def is_integer(value) -> bool:
    """Return whether ``value`` is an integer (Python or NumPy), not a bool."""
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_number(value) -> bool:
    """Return whether ``value`` is a real number (int or float, Python or NumPy), not a bool."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def did_you_mean(word, options) -> str:
    """Return ``"; did you mean 'x'?"`` for the option closest to ``word``, or ``""``.

    Parameters
    ----------
    word : object
        The unknown name; only strings get a suggestion.
    options : iterable of str
        The known names.
    """
    if not isinstance(word, str):
        return ""
    options = [str(o) for o in options]
    close = [o for o in options if o.lower() == word.lower()]
    close = close or difflib.get_close_matches(word, options, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def bounds_text(low=None, high=None, *, low_open: bool = False, high_open: bool = False,
                unit: str = "") -> str:
    """Return the wording of a range: ``">= 1"``, ``"> 0 ms"``, ``"in (0, 1]"``.

    Parameters
    ----------
    low, high : number, optional
        The bounds; None for none.
    low_open, high_open : bool
        Whether the bound itself is excluded.
    unit : str
        Unit written after the range.
    """
    if low is not None and high is not None:
        text = f"in {'(' if low_open else '['}{low}, {high}{')' if high_open else ']'}"
    elif low is not None:
        text = f"{'>' if low_open else '>='} {low}"
    elif high is not None:
        text = f"{'<' if high_open else '<='} {high}"
    else:
        text = "a number"
    return f"{text} {unit}" if unit else text


def _out_of_range(name, value, low, high, low_open, high_open, unit, fix) -> ValueError:
    bound = bounds_text(low, high, low_open=low_open, high_open=high_open, unit=unit)
    verb = "lie" if low is not None and high is not None else "be"
    tail = f"; {fix}" if fix else ""
    return ValueError(f"{name} must {verb} {bound}, not {value!r}{tail}")


def check_int(name: str, value, *, low: int | None = None, high: int | None = None,
              fix: str = "") -> int:
    """Return ``value`` as an ``int`` after checking that it is an integer in ``[low, high]``.

    Parameters
    ----------
    name : str
        The argument's name, as the caller knows it.
    value : object
        The value to check; Python and NumPy integers pass, bools do not.
    low, high : int, optional
        Inclusive bounds; None for none.
    fix : str
        What to do instead, appended to the range message (``"use 1 to 64 lanes"``).

    Returns
    -------
    int

    Raises
    ------
    TypeError
        If ``value`` is not an integer (``"n must be an integer, not 1.5"``).
    ValueError
        If it lies outside the bounds (``"n must be >= 1, not 0"``).
    """
    if not is_integer(value):
        raise TypeError(f"{name} must be an integer, not {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        raise _out_of_range(name, value, low, high, False, False, "", fix)
    return int(value)


def check_number(name: str, value, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, finite: bool = True,
                 unit: str = "", fix: str = "") -> float:
    """Return ``value`` as a ``float`` after checking that it is a number in range.

    Parameters
    ----------
    name : str
        The argument's name, as the caller knows it.
    value : object
        The value to check; Python and NumPy ints and floats pass, bools do not.
    low, high : float, optional
        Bounds; None for none.
    low_open, high_open : bool
        Whether the bound itself is excluded (``low=0, low_open=True``: ``> 0``).
    finite : bool
        Whether infinities are refused (NaN is refused always).
    unit : str
        Unit, named in the messages (``"ms"``).
    fix : str
        What to do instead, appended to the range message.

    Returns
    -------
    float

    Raises
    ------
    TypeError
        If ``value`` is not a number (``"dt must be a number in ms, not '0.1'"``).
    ValueError
        If it is NaN, infinite (with ``finite``) or out of range.
    """
    if not is_number(value):
        raise TypeError(f"{name} must be a number{' in ' + unit if unit else ''}, "
                        f"not {value!r}")
    x = float(value)
    if math.isnan(x):
        raise ValueError(f"{name} must be a number, not {value!r}; give a "
                         f"{'finite ' if finite else ''}value")
    if finite and math.isinf(x):
        raise ValueError(f"{name} must be finite, not {value!r}")
    if ((low is not None and (x <= low if low_open else x < low))
            or (high is not None and (x >= high if high_open else x > high))):
        raise _out_of_range(name, value, low, high, low_open, high_open, unit, fix)
    return x


def check_bool(name: str, value) -> bool:
    """Return ``value`` after checking that it is ``True`` or ``False``.

    Parameters
    ----------
    name : str
        The argument's name.
    value : object
        The value to check (NumPy's ``bool_`` passes too).

    Raises
    ------
    TypeError
        If ``value`` is not a bool.
    """
    if isinstance(value, bool):
        return value
    if type(value).__module__ == "numpy" and type(value).__name__ in ("bool", "bool_"):
        return bool(value)
    raise TypeError(f"{name} must be True or False, not {value!r}")


def check_choice(name: str, value, choices):
    """Return ``value`` after checking that it is one of ``choices``, with a did-you-mean.

    Parameters
    ----------
    name : str
        The argument's name.
    value : object
        The value to check.
    choices : iterable
        The allowed values (usually strings), listed in the message in this order.

    Raises
    ------
    ValueError
        If ``value`` is not among them (``"input must be one of 'poisson', 'dc', not 'DC';
        did you mean 'dc'?"``).
    """
    choices = tuple(choices)
    try:
        known = value in choices
    except (TypeError, ValueError):  # unhashable or array-like values are never choices
        known = False
    if known:
        return value
    listed = ", ".join(repr(c) for c in choices)
    raise ValueError(f"{name} must be one of {listed}, not {value!r}"
                     f"{did_you_mean(value, choices)}")


def checked(check, default=dataclasses.MISSING, *, store: bool = False, **options):
    """Return a dataclass field whose value :func:`check_fields` checks with ``check``.

    Parameters
    ----------
    check : callable
        ``check(name, value, **options)``: :func:`check_int`, :func:`check_number`, ... or a
        module's own wording of them.
    default : object, optional
        The field's default; without one the field is required.
    store : bool
        Store what the check returns (``int(value)`` for a NumPy integer) in the field.
    **options
        Keyword arguments of the check (``low=1``, ``unit="s"``).

    Returns
    -------
    dataclasses.Field
    """
    return dataclasses.field(default=default, metadata={"check": (check, options, store)})


def check_fields(obj, prefix: str = "") -> None:
    """Check the fields of a dataclass instance declared with :func:`checked`, in order.

    Parameters
    ----------
    obj : dataclass instance
        Usually ``self`` in ``__post_init__`` (frozen dataclasses included).
    prefix : str
        Written before each field's name in the messages (``"node."``, ``"activity "``).

    Raises
    ------
    TypeError, ValueError
        The first failing check's error.
    """
    for f in dataclasses.fields(obj):
        spec = f.metadata.get("check")
        if spec is None:
            continue
        check, options, store = spec
        value = check(prefix + f.name, getattr(obj, f.name), **options)
        if store:
            object.__setattr__(obj, f.name, value)
