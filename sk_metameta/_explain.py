"""What a fitted task estimator says about one task: its sources and their weights."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, fields

import numpy as np
from scipy import sparse

from ._tasks import _plain

__all__ = ["SourceContribution", "TaskExplanation", "explain_task"]


class _FieldMapping(Mapping):
    """Read-only mapping view of a dataclass's fields (``info["sources"]``)."""

    def __getitem__(self, key):
        if key not in self._keys():
            raise KeyError(key)
        return getattr(self, key)

    def __iter__(self) -> Iterator[str]:
        return iter(self._keys())

    def __len__(self) -> int:
        return len(self._keys())

    def _keys(self) -> tuple[str, ...]:
        return tuple(f.name for f in fields(self))


def _number(value, digits: int = 4) -> str:
    if value is None:
        return "-"
    if isinstance(value, float) and not np.isfinite(value):
        return "nan" if np.isnan(value) else str(value)
    return f"{value:.{digits}g}"


@dataclass(frozen=True, eq=True)
class SourceContribution(_FieldMapping):
    """One source task of a target and what it contributed.

    Attributes
    ----------
    task : hashable
        The source task's label.
    weight : float
        Its weight in the target's model (a row of ``source_weights_``).
    similarity : float
        Kernel similarity of the target to it, in ``[0, 1]``.
    distance : float
        Task distance from the target to it.
    transferability : float or None
        Score of its own model on the target's labelled rows (greater is
        better), or ``None`` when the estimator did not compute one.
    """

    task: object
    weight: float
    similarity: float
    distance: float
    transferability: float | None = None


@dataclass(frozen=True, eq=True, repr=False)
class TaskExplanation(_FieldMapping):
    """Which sources a fitted task drew on, with what weight.

    Returned by the ``explain`` method of every task estimator. It reads like a
    mapping too (``info["sources"]``) and :meth:`to_frame` gives the sources as a
    table.

    Attributes
    ----------
    task : hashable
        The task's label.
    n_rows : int
        Its number of rows in fit.
    transfer : str
        Name of the transfer rule (``"prior"``, ``"ensemble"``, ...).
    transfers : str
        What the rule transfers: ``"nothing"``, ``"parameters"``,
        ``"instances"`` or ``"predictions"``.
    strength : float or None
        Transfer strength the task got, in the rule's units (for
        ``"prior"``: how many rows the prior counts as; for ``"instance"``:
        the weight of a source row of average weight relative to one of the
        task's rows; for predictions rules: the pseudo-count ``m`` of the own
        weight ``n_rows / (n_rows + m)``); ``None`` for a rule without one.
    own_weight : float or None
        Weight of the task's own model in its predictions, for rules that mix
        predictions (the sources share the rest); ``None`` otherwise.
    sources : tuple of SourceContribution
        The sources with a positive weight, heaviest first.
    """

    task: object
    n_rows: int
    transfer: str
    transfers: str
    strength: float | None
    own_weight: float | None
    sources: tuple[SourceContribution, ...]

    def to_frame(self):
        """The sources as a :class:`pandas.DataFrame`, one row per source.

        Returns
        -------
        frame : pandas.DataFrame
            Columns ``task``, ``weight``, ``similarity``, ``distance``,
            ``transferability``; heaviest source first.
        """
        import pandas as pd

        columns = [f.name for f in fields(SourceContribution)]
        return pd.DataFrame([dict(s) for s in self.sources], columns=columns)

    def __repr__(self) -> str:
        lines = [
            f"TaskExplanation: task {self.task!r} ({self.n_rows} rows), transfer "
            f"rule {self.transfer!r} (transfers {self.transfers})"
        ]
        details = []
        if self.strength is not None:
            details.append(f"strength {_number(self.strength)}")
        if self.own_weight is not None:
            details.append(f"own model weight {_number(self.own_weight)}")
        if details:
            lines.append("  " + ", ".join(details))
        if not self.sources:
            lines.append("  no source contributes")
            return "\n".join(lines)
        lines.append(f"  {len(self.sources)} source(s), heaviest first:")
        header = ("task", "weight", "similarity", "distance", "transferability")
        rows = [
            (
                repr(s.task),
                _number(s.weight),
                _number(s.similarity),
                _number(s.distance),
                _number(s.transferability),
            )
            for s in self.sources[:10]
        ]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(5)]
        for row in [header, *rows]:
            lines.append(
                "    " + "  ".join(c.rjust(w) for c, w in zip(row, widths, strict=True))
            )
        if len(self.sources) > 10:
            lines.append(f"    ... and {len(self.sources) - 10} more")
        return "\n".join(lines)


def _row(matrix, t: int) -> dict[int, float]:
    """Stored entries of row ``t`` of a sparse matrix as ``{column: value}``."""
    if matrix is None:
        return {}
    M = sparse.csr_array(matrix)
    start, stop = M.indptr[t], M.indptr[t + 1]
    keys, values = M.indices[start:stop].tolist(), M.data[start:stop].tolist()
    return dict(zip(keys, values, strict=True))


def explain_task(estimator, t: int, *, strength, own_weight) -> TaskExplanation:
    """The explanation of fitted task number ``t`` of a task estimator.

    Parameters
    ----------
    estimator : fitted task estimator
        Has ``tasks_``, ``source_weights_``, ``similarity_``,
        ``task_distances_``, ``transferability_`` and ``transfer_rule_``.
    t : int
        Task number in ``tasks_``.
    strength, own_weight : float or None
        The task's strength and own weight, as the estimator defines them.

    Returns
    -------
    explanation : TaskExplanation
    """
    weights = _row(estimator.source_weights_, t)
    similarity = _row(estimator.similarity_, t)
    distance = _row(estimator.task_distances_, t)
    scores = _row(estimator.transferability_, t)
    scored = estimator.transferability_ is not None
    order = sorted((s for s, w in weights.items() if w > 0), key=lambda s: -weights[s])
    labels = estimator.tasks_
    sources = tuple(
        SourceContribution(
            task=_plain(labels[s]),
            weight=float(weights[s]),
            similarity=float(similarity.get(s, 0.0)),
            distance=float(distance.get(s, np.nan)),
            transferability=(None if not scored else float(scores.get(s, np.nan))),
        )
        for s in order
    )
    rule = estimator.transfer_rule_
    return TaskExplanation(
        task=_plain(labels[t]),
        n_rows=int(estimator._index.counts[t]),
        transfer=rule.name,
        transfers=rule.transfers,
        strength=None if strength is None else float(strength),
        own_weight=None if own_weight is None else float(own_weight),
        sources=sources,
    )
