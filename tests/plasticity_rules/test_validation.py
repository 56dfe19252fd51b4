import numpy as np
import pytest

from plasticity_rules.validation import (
    check_array,
    check_choice,
    check_int,
    check_positive,
    check_probability,
    check_seed,
    make_rng,
)


def test_accepts_good_values():
    assert check_positive("x", 1.5) == 1.5
    assert check_int("n", np.int64(3)) == 3
    assert check_probability("p", 0) == 0
    assert check_choice("mode", "a", ["a", "b"]) == "a"
    assert check_array("a", [[1, 2]], shape=(1, None)).shape == (1, 2)
    assert make_rng(3).random() == make_rng(3).random()


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda: check_positive("dt", 0.0), "dt must be > 0, got 0.0"),
        (lambda: check_positive("dt", float("nan")), "dt must be a finite number"),
        (lambda: check_positive("dt", True), "dt must be a finite number"),
        (lambda: check_int("n", 2.5), "n must be an integer, got 2.5"),
        (lambda: check_int("n", 0), "n must be >= 1, got 0"),
        (lambda: check_probability("p", 1.01), r"p must be a probability in \[0, 1\], got 1.01"),
        (lambda: check_choice("mode", "c", ["a", "b"]), "unknown mode 'c'; allowed: a, b"),
        (lambda: check_array("x", [[1, 2]], shape=(2, None)), r"x must have shape \(2, any\), got \(1, 2\)"),
        (lambda: check_array("x", [1.0, np.nan]), "x contains 1 NaN"),
        (lambda: check_array("x", []), "x must not be empty"),
        (lambda: check_array("x", ["a"]), "x must be a numeric array"),
        (lambda: check_seed(-1), "seed must be a non-negative integer"),
    ],
)
def test_rejects_with_clear_message(call, match):
    with pytest.raises(ValueError, match=match):
        call()
