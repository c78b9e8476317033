"""OrderHub: one order pool for every sales channel."""

__version__ = "0.1.0"
