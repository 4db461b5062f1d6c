import numpy as np
import pandas as pd
import pytest

from segments import quality


def test_size_report_flags_small_segments_and_over_segmentation():
    labels = pd.Series(["a"] * 90 + ["b"] * 4 + ["c"] * 3 + ["d"] * 3)

    report = quality.size_report(labels, min_share=0.05)

    assert report["sizes"] == {"a": 90, "b": 4, "c": 3, "d": 3}
    assert report["shares"]["a"] == 0.9
    assert report["substantial"] is False
    assert report["small_segments"] == ["b", "c", "d"]
    assert "3 of 4 segments hold less than 5%" in report["warnings"][0]


def test_one_small_segment_of_five_is_not_a_warning():
    labels = pd.Series(["a"] * 30 + ["b"] * 30 + ["c"] * 20 + ["d"] * 18 + ["e"] * 2)

    report = quality.size_report(labels, min_share=0.05)

    assert report["small_segments"] == ["e"]
    assert report["warnings"] == []


def test_separation_is_nearest_centres_over_mean_spread():
    scaled = np.array([[0.0, 1], [0, -1], [10, 1], [10, -1]])
    labels = np.array([0, 0, 1, 1])
    centres = np.array([[0.0, 0], [10, 0]])

    assert quality.separation(scaled, labels, centres) == pytest.approx(10.0)


def test_stability_compares_common_customers_only():
    previous = pd.Series([1, 1, 2, 2, 3], index=[10, 11, 12, 13, 14])
    current = pd.Series([5, 5, 6, 6, 9], index=[10, 11, 12, 13, 99])

    report = quality.stability(previous, current)

    assert report == {"compared": 4, "adjusted_rand": 1.0, "agreement": 0.0}


def test_stability_without_previous_run():
    report = quality.stability(pd.Series(dtype="int64"), pd.Series([1], index=[3]))

    assert report["compared"] == 0
    assert report["adjusted_rand"] is None
