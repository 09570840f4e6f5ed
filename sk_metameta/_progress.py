"""Progress bars of long steps: on a terminal only, and never when asked not to.

A bar is drawn by tqdm on stderr when stderr is a terminal; written to a file, a
pipe or a CI log it is silent (tqdm's ``disable=None``), so a log never fills with
glued updates. ``enabled=False`` silences it everywhere.
"""

from __future__ import annotations

import sys

from tqdm import tqdm

__all__ = ["progress_bar"]


def progress_bar(total: int | None, desc: str, *, enabled: bool = True, unit="it"):
    """A tqdm progress bar on stderr, shown only when stderr is a terminal.

    Parameters
    ----------
    total : int or None
        Number of steps (``None`` when unknown: the bar counts).
    desc : str
        What is being done, shown before the bar.
    enabled : bool, default=True
        ``False`` silences the bar even on a terminal.
    unit : str, default="it"
        Name of a step.

    Returns
    -------
    bar : tqdm.tqdm
        Call ``update(n)`` and ``close()`` (or use it as a context manager).

    Examples
    --------
    >>> from sk_metameta._progress import progress_bar
    >>> with progress_bar(3, "work") as bar:
    ...     for _ in range(3):
    ...         _ = bar.update(1)
    >>> bar.disable  # stderr is not a terminal here: nothing was written
    True
    """
    return tqdm(
        total=total,
        desc=desc,
        unit=unit,
        file=sys.stderr,
        leave=False,
        disable=None if enabled else True,
        dynamic_ncols=True,
    )
