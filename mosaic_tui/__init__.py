"""mosaic-tui: deploys an OpenST Mosaic meta-blockchain, step by step, from a terminal wizard or headless."""

__version__ = "0.1.0"
