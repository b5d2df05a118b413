"""The uses of a model: the tutorial's heatmap and neighbours, the SciCite citation-intent classifier,
and comparing two models.

Takes a ``TextEmbedding`` (or a loaded TF-Hub module); gives similarity matrices and their heatmap,
neighbour tables, word-group coherence (``analysis``), SciCite's data, a trained classifier, its
metrics, plots and predictions (``scicite``), and the alignment and drift table of two models
(``compare``). Names load lazily: matplotlib and TensorFlow.
"""

from typing import Any

from ..lazy import lazy_attribute

_LAZY = {
    **dict.fromkeys(
        ["TUTORIAL_TERMS", "SimilarityMatrix", "group_cosines", "neighbour_table", "plot_heatmap", "similarity_matrix"],
        "analysis",
    ),
    **dict.fromkeys(
        [
            "LABELS",
            "ClassifierResult",
            "SciCite",
            "load_classifier",
            "load_scicite",
            "predict_intents",
            "train_classifier",
            "write_classifier_outputs",
        ],
        "scicite",
    ),
    **dict.fromkeys(["Alignment", "DriftTable", "align", "drift", "shared_words"], "compare"),
}
__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    return lazy_attribute(__name__, _LAZY, name)
