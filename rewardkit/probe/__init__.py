"""``rewardkit probe``: red-team a composite reward before training on it.

For each dataset row the probe builds a correct and a wrong completion, derives attacked ones
from a catalogue (:mod:`.attacks`, plus the attacks plugins register for their own rewards with
the ``register_attacks`` hook), scores all of them through ``composite.breakdown`` and reports,
per attack, how often it wins, by how much, which component pays for it, and a severity
(:mod:`.severity`). docs/probe.md explains every attack and how to read the report.
"""

from .attacks import CATALOGUE, Attack
from .case import Case, Layout
from .run import Report, probe
from .severity import Finding

__all__ = ["CATALOGUE", "Attack", "Case", "Finding", "Layout", "Report", "probe"]
