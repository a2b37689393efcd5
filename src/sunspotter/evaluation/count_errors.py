"""Why a whole image's region count is off: each listed region the prediction adds or loses, by cause.

The count error alone (predicted minus true listed regions) hides what a planner needs to know: whether
regions were missed outright, broken in two, run together, or moved across the catalog's listing limit
by a few pixels of area. Regions of the true and the predicted mask (listed or not) that share a pixel
form clusters; each cluster whose listed counts differ adds its difference to one cause:

- ``missed``: true listed regions with no predicted pixel on them;
- ``false``: predicted listed regions on no true spot at all;
- ``split``: one true region listed as several (the prediction lost what joins them);
- ``merged``: several true regions listed as one;
- ``over_limit``: predicted listed regions whose true regions are all under the listing limit;
- ``under_limit``: true listed regions whose predicted regions are all under it.

So ``count_error = false + split + over_limit - missed - merged - under_limit``, image by image.
"""

from __future__ import annotations

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

#: The causes that add regions, then those that lose them.
ADDING = ("false", "split", "over_limit")
LOSING = ("missed", "merged", "under_limit")
CAUSES = ADDING + LOSING


def count_error_causes(true_labels: np.ndarray, true_listed: np.ndarray, guess_labels: np.ndarray,
                       guess_listed: np.ndarray) -> dict[str, int]:
    """Regions added or lost by each cause (``CAUSES``, all >= 0).

    Parameters
    ----------
    true_labels, guess_labels : numpy.ndarray
        Every region of each mask labelled 1..n, 0 elsewhere (``catalog.label_regions``), on the same pixels.
    true_listed, guess_listed : numpy.ndarray
        The labels of the regions each catalog lists (its ``label`` column).
    """
    n_true, n_guess = int(true_labels.max(initial=0)), int(guess_labels.max(initial=0))
    both = (true_labels > 0) & (guess_labels > 0)
    # One graph: true regions are nodes 0..n_true-1, predicted ones follow; sharing a pixel links them.
    rows, cols = true_labels[both] - 1, n_true + guess_labels[both] - 1
    nodes = n_true + n_guess
    if nodes == 0:
        return dict.fromkeys(CAUSES, 0)
    links = coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(nodes, nodes))
    cluster = connected_components(links, directed=False)[1]
    true_cluster, guess_cluster = cluster[:n_true], cluster[n_true:]
    listed_true = np.bincount(true_cluster[np.asarray(true_listed, int) - 1], minlength=nodes)
    listed_guess = np.bincount(guess_cluster[np.asarray(guess_listed, int) - 1], minlength=nodes)
    any_true = np.bincount(true_cluster, minlength=nodes) > 0
    any_guess = np.bincount(guess_cluster, minlength=nodes) > 0

    extra, lost = listed_guess - listed_true, listed_true - listed_guess
    alone_guess, alone_true = listed_true == 0, listed_guess == 0
    return {
        "false": int(extra[alone_guess & ~any_true].sum()),
        "over_limit": int(extra[alone_guess & any_true].sum()),
        "split": int(extra[(extra > 0) & ~alone_guess].sum()),
        "missed": int(lost[alone_true & ~any_guess].sum()),
        "under_limit": int(lost[alone_true & any_guess].sum()),
        "merged": int(lost[(lost > 0) & ~alone_true].sum()),
    }
