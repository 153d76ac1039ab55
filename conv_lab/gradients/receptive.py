"""Receptive fields of conv and pooling stacks for the /gradients family: the geometry itself lives in
`conv_lab.core.receptive` (one implementation, shared with the network planner), re-exported here.

>>> from conv_lab.core.spec import ConvSpec
>>> receptive_field([ConvSpec(1, 1, 3), Pool(2)], (1, 8, 8), (1, 1)).size
(4, 4)
"""

from __future__ import annotations

from conv_lab.core.receptive import Pool, ReceptiveField, receptive_field, receptive_rows

__all__ = ["Pool", "ReceptiveField", "receptive_field", "receptive_rows"]
