"""Neighbour search among tasks and kernel similarities (sk_metameta.neighbors)."""

import numpy as np
import pytest
from scipy.spatial.distance import cdist

from sk_metameta.neighbors import find_task_neighbors, neighbor_similarity


@pytest.mark.parametrize("metric", ["euclidean", "manhattan", "chebyshev"])
def test_index_search_equals_brute_force(metric):
    F = np.random.default_rng(0).normal(size=(300, 4))
    brute = find_task_neighbors(F, metric=metric, n_neighbors=5, algorithm="brute")
    index = find_task_neighbors(F, metric=metric, n_neighbors=5, algorithm="index")
    np.testing.assert_array_equal(brute.indices, index.indices)
    np.testing.assert_allclose(brute.distances, index.distances)
    assert not (brute.indices == np.arange(300)[:, None]).any()
    D = cdist(F, F, {"manhattan": "cityblock"}.get(metric, metric))
    np.fill_diagonal(D, np.inf)
    np.testing.assert_allclose(brute.distances, np.sort(D, axis=1)[:, :5])


def test_approximate_search_finds_nearly_the_nearest():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(50, 12)) * 5
    F = centres[rng.integers(0, 50, size=3000)] + rng.normal(size=(3000, 12))
    exact = find_task_neighbors(F, n_neighbors=10, algorithm="brute")
    approx = find_task_neighbors(F, n_neighbors=10, algorithm="approximate")
    assert not (approx.indices == np.arange(3000)[:, None]).any()
    recall = np.mean(
        [
            np.intersect1d(a, e).size / 10
            for a, e in zip(approx.indices, exact.indices, strict=True)
        ]
    )
    assert recall > 0.8
    assert approx.distances.mean() < 1.05 * exact.distances.mean()
    # the distances reported are the true ones
    D = np.linalg.norm(F[:, None, :] - F[approx.indices], axis=-1)
    np.testing.assert_allclose(approx.distances, D)


def test_neighbor_similarity_errors_and_values():
    D = np.array([[0.0, 1.0, 2.0], [1.0, 0.0, 1.0], [2.0, 1.0, 0.0]])
    with pytest.raises(
        ValueError, match=r"each target task has only 2 source task\(s\) \(3 tasks"
    ):
        neighbor_similarity(D, 3)
    S = neighbor_similarity(D, None, kernel="laplacian", bandwidth=1.0)
    np.testing.assert_allclose(S[0], [0.0, np.exp(-1), np.exp(-2)])
    with pytest.raises(ValueError, match="NaN"):
        neighbor_similarity(np.full((2, 2), np.nan))
