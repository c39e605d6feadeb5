"""Facts from Glorot & Bengio (2010) that the experiments are compared against.

Numbers are the paper's (Table 1, read-offs of Figs. 11–12 and §4.2.2); see shared PAPER.md for
sources. What the paper leaves unknown is named where a default is chosen instead.
"""

from __future__ import annotations

#: Table 1 rows: (label, activation, init). "N" = normalized init (Eq. 16), else standard (Eq. 1).
TABLE1_ROWS = (
    ("Softsign", "softsign", "standard"),
    ("Softsign N", "softsign", "normalized"),
    ("Tanh", "tanh", "standard"),
    ("Tanh N", "tanh", "normalized"),
    ("Sigmoid", "sigmoid", "standard"),
)

#: Table 1: test error (%) of 5-hidden-layer networks.
TABLE1 = {
    "Softsign": {"shapeset": 16.27, "mnist": 1.64, "cifar10": 55.78, "imagenet": 69.14},
    "Softsign N": {"shapeset": 16.06, "mnist": 1.72, "cifar10": 53.8, "imagenet": 68.13},
    "Tanh": {"shapeset": 27.15, "mnist": 1.76, "cifar10": 55.9, "imagenet": 70.58},
    "Tanh N": {"shapeset": 15.60, "mnist": 1.64, "cifar10": 52.92, "imagenet": 68.57},
    "Sigmoid": {"shapeset": 82.61, "mnist": 2.21, "cifar10": 57.28, "imagenet": 70.66},
}

#: Input and output sizes per dataset (§2).
DATASET_SHAPES = {"shapeset": (1024, 9), "mnist": (784, 10), "cifar10": (3072, 10), "imagenet": (1369, 10)}

#: Mean Jacobian singular value at initialization (§4.2.2): "around 0.8" normalized, "0.5" standard.
JACOBIAN_MEAN_SINGULAR_VALUE = {"normalized": 0.8, "standard": 0.5}

#: Error of always predicting Shapeset's most likely class prior (each single shape has 1/6):
#: 1 - 1/6, the level of the depth-5 sigmoid network's flat curve in Fig. 11.
SHAPESET_CONSTANT_ERROR = 1 - 1 / 6

#: The paper's minibatch size and its plotting unit ("Epochs of 20k mini-batch updates").
BATCH_SIZE = 10
UPDATES_PER_PLOT_EPOCH = 20_000
