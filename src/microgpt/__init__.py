"""microgpt: train and sample a GPT from first principles, in pure Python."""

__version__ = "0.1.0"
