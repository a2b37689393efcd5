"""Each listed region a prediction adds or loses is put down to one cause, and the causes add up to the count
error."""

import numpy as np
import pytest

from sunspotter.evaluation.count_errors import ADDING, CAUSES, LOSING, count_error_causes


def _labels(*boxes: tuple[int, int, int, int]) -> np.ndarray:
    """Regions 1..n, each a box (row0, row1, col0, col1) on a 40 x 40 frame."""
    labels = np.zeros((40, 40), int)
    for number, (r0, r1, c0, c1) in enumerate(boxes, 1):
        labels[r0:r1, c0:c1] = number
    return labels


def _causes(truth: np.ndarray, true_listed: list[int], guess: np.ndarray, guess_listed: list[int]) -> dict:
    causes = count_error_causes(truth, np.array(true_listed, int), guess, np.array(guess_listed, int))
    error = len(guess_listed) - len(true_listed)
    assert error == sum(causes[c] for c in ADDING) - sum(causes[c] for c in LOSING)
    return {cause: number for cause, number in causes.items() if number}


def test_a_right_count_has_no_causes():
    truth = _labels((2, 8, 2, 8), (20, 30, 20, 30))
    assert _causes(truth, [1, 2], truth, [1, 2]) == {}


@pytest.mark.parametrize("truth, true_listed, guess, guess_listed, expected", [
    # a true region with nothing predicted on it
    (_labels((2, 8, 2, 8), (20, 30, 20, 30)), [1, 2], _labels((2, 8, 2, 8)), [1], {"missed": 1}),
    # a predicted region on quiet Sun
    (_labels((2, 8, 2, 8)), [1], _labels((2, 8, 2, 8), (20, 30, 20, 30)), [1, 2], {"false": 1}),
    # one true region listed as two halves: the prediction lost what joined them
    (_labels((2, 8, 2, 30)), [1], _labels((2, 8, 2, 10), (2, 8, 20, 30)), [1, 2], {"split": 1}),
    # two true regions run together
    (_labels((2, 8, 2, 10), (2, 8, 20, 30)), [1, 2], _labels((2, 8, 2, 30)), [1], {"merged": 1}),
    # a pore under the listing limit measured over it
    (_labels((2, 4, 2, 4)), [], _labels((1, 5, 1, 5)), [1], {"over_limit": 1}),
    # a listed region measured under the limit
    (_labels((1, 5, 1, 5)), [1], _labels((2, 4, 2, 4)), [], {"under_limit": 1}),
])
def test_each_cause(truth, true_listed, guess, guess_listed, expected):
    assert _causes(truth, true_listed, guess, guess_listed) == expected


def test_errors_that_cancel_are_both_shown():
    """An exact count can hide a split here and a miss there: both are reported."""
    truth = _labels((2, 8, 2, 30), (20, 30, 20, 30))
    guess = _labels((2, 8, 2, 10), (2, 8, 20, 30))
    assert _causes(truth, [1, 2], guess, [1, 2]) == {"split": 1, "missed": 1}


def test_unlisted_regions_on_both_sides_are_no_error():
    truth = _labels((2, 4, 2, 4), (20, 30, 20, 30))
    guess = _labels((2, 3, 2, 3), (20, 30, 20, 30))
    assert _causes(truth, [2], guess, [2]) == {}


def test_empty_masks():
    empty = np.zeros((40, 40), int)
    assert count_error_causes(empty, np.array([], int), empty, np.array([], int)) == dict.fromkeys(CAUSES, 0)
