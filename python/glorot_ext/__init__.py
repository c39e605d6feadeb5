"""glorot_ext: deep feedforward networks on the CPU, with the instruments of Glorot & Bengio (2010)."""

__version__ = "0.1.0"
