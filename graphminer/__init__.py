"""graphminer: what taking part did to the people who took part.

One flow: harvest (``graphminer.harvest``) -> store (``graphminer.store``) -> events
(``graphminer.events``) -> graph and trajectories (``graphminer.graph``,
``graphminer.trajectory``) -> outputs (``graphminer.export``, ``graphminer.report``).
The package imports nothing heavy at import time so that the CLI starts fast.
"""

__version__ = "0.1.0"
