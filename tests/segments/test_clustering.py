import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import adjusted_rand_score

from segments import clustering


def blobs(centres, per_blob=60, seed=1) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(seed)
    rows, truth = [], []
    for label, centre in enumerate(centres):
        rows.append(rng.normal(centre, 0.3, size=(per_blob, len(centre))))
        truth += [label] * per_blob
    matrix = pd.DataFrame(np.vstack(rows), columns=[f"share_{i}" for i in range(len(centres[0]))])
    return matrix, np.array(truth)


CENTRES = [(0, 0), (6, 0), (0, 6), (6, 6)]


def test_k_is_chosen_by_silhouette_within_bounds():
    matrix, truth = blobs(CENTRES)

    fitted = clustering.fit_clusters(matrix, k_min=2, k_max=7)

    assert fitted.k == 4
    assert max(fitted.silhouette_by_k, key=fitted.silhouette_by_k.get) == 4
    assert adjusted_rand_score(truth, fitted.labels) == 1.0


def test_bounds_are_respected_even_when_another_k_fits_better():
    matrix, _ = blobs(CENTRES)

    fitted = clustering.fit_clusters(matrix, k_min=5, k_max=6)

    assert fitted.k in (5, 6)


def test_same_input_gives_same_clusters():
    matrix, _ = blobs(CENTRES)

    first = clustering.fit_clusters(matrix, k_min=2, k_max=6)
    second = clustering.fit_clusters(matrix, k_min=2, k_max=6)

    assert (first.labels == second.labels).all()


def test_clusters_are_numbered_largest_first():
    matrix, _ = blobs(CENTRES, per_blob=30)
    extra, _ = blobs([(6, 6)], per_blob=50, seed=2)

    fitted = clustering.fit_clusters(pd.concat([matrix, extra]), k_min=4, k_max=4)

    assert np.bincount(fitted.labels).tolist() == sorted(np.bincount(fitted.labels), reverse=True)


def test_skewed_columns_are_log_transformed():
    matrix = pd.DataFrame({"monetary": [0.0, 9.0, -3.0], "share_chat": [0.5, 1.0, 0.0]})

    transformed = clustering.transform(matrix)

    assert transformed["monetary"].tolist() == pytest.approx([0.0, np.log(10), 0.0])
    assert transformed["share_chat"].tolist() == [0.5, 1.0, 0.0]


def test_too_few_distinct_customers_is_an_error():
    matrix = pd.DataFrame({"share_chat": [1.0, 1.0, 0.0, 0.0]})

    with pytest.raises(clustering.TooFewCustomers, match="cannot form 3 segments"):
        clustering.fit_clusters(matrix, k_min=3, k_max=5)


def test_new_clusters_are_matched_to_previous_segments_by_centroid():
    # given a first run whose clusters became segments 11..14
    matrix, _ = blobs(CENTRES)
    first = clustering.fit_clusters(matrix, k_min=4, k_max=4)
    previous = {11 + i: list(first.centroids[i]) for i in range(4)}

    # when the same groups come back in another order and slightly moved
    shuffled, _ = blobs(CENTRES[::-1], seed=5)
    second = clustering.fit_clusters(shuffled + 0.1, k_min=4, k_max=4)
    matched = clustering.match_previous(second, previous, list(matrix.columns))

    # then every cluster keeps the segment whose centre it is closest to
    for label, segment_id in matched.items():
        old_centre = np.array(previous[segment_id])
        assert np.linalg.norm(second.centroids[label] - old_centre) < 1
    assert sorted(matched.values()) == [11, 12, 13, 14]


def test_extra_cluster_gets_no_previous_segment():
    matrix, _ = blobs(CENTRES)
    fitted = clustering.fit_clusters(matrix, k_min=4, k_max=4)
    previous = {7: list(fitted.centroids[0]), 8: list(fitted.centroids[1])}

    matched = clustering.match_previous(fitted, previous, list(matrix.columns))

    assert matched == {0: 7, 1: 8}


def test_no_matching_without_shared_columns():
    matrix, _ = blobs(CENTRES)
    fitted = clustering.fit_clusters(matrix, k_min=4, k_max=4)

    assert clustering.match_previous(fitted, {1: [0.0]}, ["monetary"]) == {}
