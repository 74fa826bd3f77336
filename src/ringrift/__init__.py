"""RingRift: rules engine and AlphaZero-style training pipeline."""

__version__ = "0.1.0"
