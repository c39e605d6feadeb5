"""The paper's experiments: single runs with checkpoints (``run``, from ``single_run``) and the
Table 1 / figure reproduction (``reproduce``, from ``reproduction``), compared side by side with
the published numbers (``paper``). No function shares a name with a module, so each is reachable."""

from glorot_ext.experiments import paper
from glorot_ext.experiments.reproduction import reproduce
from glorot_ext.experiments.single_run import RunConfig, run

__all__ = ["RunConfig", "paper", "reproduce", "run"]
