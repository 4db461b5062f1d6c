"""The segmentation's quality, made measurable.

- substantial: every segment holds at least ``min_share`` of the customers;
- differentiable: silhouette (from clustering) and separation, the smallest distance between
  two centroids divided by the mean distance of customers to their own centroid (above 1: the
  segments are further apart than they are wide);
- stable: adjusted Rand index and plain agreement with the previous run on the customers both
  runs labelled;
- a warning when more than ``MAX_SMALL_SHARE`` of the segments are too small, a sign that k is
  too high for the data.
"""

import numpy as np
import pandas as pd
from sklearn.metrics import adjusted_rand_score

MAX_SMALL_SHARE = 0.25


def size_report(labels: pd.Series, *, min_share: float) -> dict:
    """Sizes and shares per label, which are too small, and the over-segmentation warning."""
    sizes = labels.value_counts()
    total = int(sizes.sum())
    shares = sizes / total if total else sizes.astype("float64")
    small = sorted(str(label) for label, share in shares.items() if share < min_share)
    warnings = []
    if len(sizes) and len(small) > MAX_SMALL_SHARE * len(sizes):
        warnings.append(
            f"{len(small)} of {len(sizes)} segments hold less than {min_share:.0%} of customers; "
            "consider fewer segments."
        )
    return {
        "sizes": {str(label): int(size) for label, size in sizes.items()},
        "shares": {str(label): round(float(share), 4) for label, share in shares.items()},
        "substantial": not small,
        "small_segments": small,
        "warnings": warnings,
    }


def separation(scaled: np.ndarray, labels: np.ndarray, centres: np.ndarray) -> float:
    if len(centres) < 2:
        return 0.0
    within = np.linalg.norm(scaled - centres[labels], axis=1).mean()
    between = np.linalg.norm(centres[:, None, :] - centres[None, :, :], axis=2)
    nearest = between[~np.eye(len(centres), dtype=bool)].min()
    return float(nearest / within) if within else float("inf")


def stability(previous: pd.Series, current: pd.Series) -> dict:
    """Agreement with the previous run on the customers (index) both runs labelled."""
    common = previous.index.intersection(current.index)
    if len(common) == 0:
        return {"compared": 0, "adjusted_rand": None, "agreement": None}
    before, after = previous.loc[common].to_numpy(), current.loc[common].to_numpy()
    return {
        "compared": len(common),
        "adjusted_rand": round(float(adjusted_rand_score(before, after)), 4),
        "agreement": round(float((before == after).mean()), 4),
    }
