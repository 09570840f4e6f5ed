"""Conformance check of sample metrics: tasks drawn with known relations."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from ._axioms import Points, check_axioms, check_output
from ._common import assert_close, call, fmt, fresh
from ._strategies import finite_floats, task_labels

__all__ = ["check_sample_example", "task_samples"]


@dataclass
class _Sample:
    X: np.ndarray
    y: np.ndarray | None
    tasks: np.ndarray
    blocks: list  # (X_t, y_t) of each task, in the order the tasks were made
    labels: list  # label of each block
    same: list  # (block, block, why)
    different: list  # (block, block, why)
    split: list  # blocks of the first group of the rectangular call

    def __repr__(self) -> str:  # what Hypothesis prints as falsifying example
        y = "" if self.y is None else f", y={fmt(self.y)}"
        return f"_Sample(X={fmt(self.X)}{y}, tasks={self.tasks.tolist()!r})"


@st.composite
def task_samples(draw, bounds: tuple[float, float], min_rows: int, y_elements):
    """Tasks drawn at random, plus copies, shifts and contractions of the first."""
    low, high = bounds
    elements = finite_floats(low, high)
    n_features = draw(st.integers(1, 3))
    blocks = []
    for _ in range(draw(st.integers(1, 3))):
        m = draw(st.integers(min_rows, min_rows + 4))
        Xt = draw(hnp.arrays(np.float64, (m, n_features), elements=elements))
        yt = None
        if y_elements is not None:
            yt = np.asarray(draw(st.lists(y_elements, min_size=m, max_size=m)))
        blocks.append((Xt, yt))
    same, different = [], []
    X0, y0 = blocks[0]

    order = np.asarray(draw(st.permutations(range(X0.shape[0]))), dtype=int)
    if (order == np.arange(order.size)).all():
        order = order[::-1].copy()  # another order, whenever there are two rows
    blocks.append((X0[order], None if y0 is None else y0[order]))
    same.append((0, len(blocks) - 1, "b has the rows of a in another order"))

    step = (high - low) / 8.0
    room_up = X0.max(axis=0) + 2 * step <= high
    room_down = X0.min(axis=0) - 2 * step >= low
    shift = np.where(room_up, step, np.where(room_down, -step, 0.0))
    if shift.any():
        first = len(blocks)
        blocks.append((X0 + shift, y0))
        blocks.append((X0 + 2 * shift, y0))
        why = f"b is a shifted by {fmt(shift)}"
        different.append((0, first, why))
        different.append((first, first + 1, why))
        different.append((0, first + 1, f"b is a shifted by {fmt(2 * shift)}"))

    centre = X0.mean(axis=0)
    if np.abs(X0 - centre).max() >= 0.01 * (high - low):
        blocks.append((centre + 0.5 * (X0 - centre), y0))
        different.append(
            (0, len(blocks) - 1, "b is a contracted by half toward its mean")
        )

    labels = draw(task_labels(len(blocks)))
    counts = [b[0].shape[0] for b in blocks]
    X = np.vstack([b[0] for b in blocks])
    y = None if y_elements is None else np.concatenate([b[1] for b in blocks])
    codes = np.repeat(np.arange(len(blocks)), counts)
    shuffle = np.asarray(draw(st.permutations(range(X.shape[0]))), dtype=int)
    X, codes = X[shuffle], codes[shuffle]
    y = None if y is None else y[shuffle]
    tasks = np.asarray(labels)[codes]
    split = (
        sorted(
            draw(
                st.sets(
                    st.integers(0, len(blocks) - 1),
                    min_size=1,
                    max_size=len(blocks) - 1,
                )
            )
        )
        if len(blocks) > 1
        else []
    )
    return _Sample(X, y, tasks, blocks, labels, same, different, split)


def check_sample_example(metric, sample: _Sample, declared, tol, who) -> None:
    m = fresh(metric)
    X, y, tasks = sample.X, sample.y, sample.tasks
    sorted_labels = np.unique(np.asarray(sample.labels))
    # position of each block in the task order (sorted labels) of the output
    pos = np.searchsorted(sorted_labels, np.asarray(sample.labels))
    block_of = np.empty(len(pos), dtype=int)
    block_of[pos] = np.arange(len(pos))
    n = len(pos)

    def name(i: int) -> str:
        Xt, yt = sample.blocks[block_of[i]]
        y_text = "" if yt is None else f" and y {fmt(yt)}"
        return f"task {sample.labels[block_of[i]]!r} with rows {fmt(Xt)}{y_text}"

    D = call(who, "pairwise(X, tasks)", m.pairwise, X, tasks, y=y, y_other=y)
    check_output(D, (n, n), who, f"pairwise(X, tasks) with {sample!r}")
    points = Points(
        describe=name,
        same=[(pos[a], pos[b], why) for a, b, why in sample.same],
        different=[(pos[a], pos[b], why) for a, b, why in sample.different],
    )
    check_axioms(D, declared, points, tol, who)

    zero = tol.atol + tol.rtol * float(np.abs(D).max(initial=0.0))
    D2 = call(
        who,
        "pairwise(X, tasks, X, tasks)",
        m.pairwise,
        X,
        tasks,
        X,
        tasks,
        y=y,
        y_other=y,
    )
    check_output(D2, (n, n), who, f"pairwise(X, tasks, X, tasks) with {sample!r}")
    assert_close(
        D2,
        D,
        atol=zero,
        rtol=tol.rtol,
        who=who,
        what="pairwise(X, tasks, X, tasks) differs from pairwise(X, tasks)",
        context=f" for {sample!r}",
    )
    if sample.split:
        _check_rectangular(m, sample, D, pos, declared, tol, who)


def _check_rectangular(m, sample: _Sample, D, pos, declared, tol, who) -> None:
    """A call between two groups of tasks is the block of the square call."""
    X, y, tasks = sample.X, sample.y, sample.tasks
    n = D.shape[0]
    zero = tol.atol + tol.rtol * float(np.abs(D).max(initial=0.0))
    in_a = np.isin(tasks, np.asarray(sample.labels)[sample.split])
    ia = np.sort(pos[sample.split])
    ib = np.setdiff1d(np.arange(n), ia)
    Xa, ta, Xb, tb = X[in_a], tasks[in_a], X[~in_a], tasks[~in_a]
    ya = None if y is None else y[in_a]
    yb = None if y is None else y[~in_a]
    context = (
        f" for X_a = {fmt(Xa)}, tasks_a = {ta.tolist()!r}, X_b = {fmt(Xb)}, "
        f"tasks_b = {tb.tolist()!r}"
    )
    R = call(
        who,
        "pairwise(X_a, tasks_a, X_b, tasks_b)",
        m.pairwise,
        Xa,
        ta,
        Xb,
        tb,
        y=ya,
        y_other=yb,
    )
    check_output(R, (ia.size, ib.size), who, "pairwise(X_a, tasks_a, X_b, tasks_b)")
    assert_close(
        R,
        D[np.ix_(ia, ib)],
        atol=zero,
        rtol=tol.rtol,
        who=who,
        what="pairwise(X_a, tasks_a, X_b, tasks_b) differs from the block of "
        "pairwise(X, tasks)",
        context=context,
    )
    if "symmetry" in declared:
        R2 = call(
            who,
            "pairwise(X_b, tasks_b, X_a, tasks_a)",
            m.pairwise,
            Xb,
            tb,
            Xa,
            ta,
            y=yb,
            y_other=ya,
        )
        check_output(
            R2, (ib.size, ia.size), who, "pairwise(X_b, tasks_b, X_a, tasks_a)"
        )
        assert_close(
            R2,
            R.T,
            atol=zero,
            rtol=tol.rtol,
            who=who,
            what="declares symmetry but pairwise(X_b, ..., X_a, ...) is not the "
            "transpose of pairwise(X_a, ..., X_b, ...)",
            context=context,
        )
