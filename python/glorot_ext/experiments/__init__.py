"""The paper's experiments: single runs with checkpoints (``run``) and the Table 1 / figure
reproduction (``reproduce``), compared side by side with the published numbers (``paper``)."""

from glorot_ext.experiments import paper
from glorot_ext.experiments.reproduce import reproduce
from glorot_ext.experiments.run import RunConfig, run

__all__ = ["RunConfig", "paper", "reproduce", "run"]
