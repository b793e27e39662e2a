"""Third Space: a server for shared virtual third spaces."""

__version__ = "0.1.0"
