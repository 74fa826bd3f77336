"""The action index: every legal move <-> one entry of a fixed-size policy vector per board.

One encoding for every board, written over the board geometry: square and hex boards share every
code path, apart from a few geometry facts (territory edge axes, the square8 centre site, recovery
bounds, the coordinates of `tables`). The modules, lowest first:

    errors       ActionIndexError
    layout       the policy vector's plane families and sizes per board (the layout's full
                 description is there), `action_layout`, `policy_size`, `SCALAR_TYPES`
    tables       per-geometry lookup tables (grid positions, ray codes, line axes)
    lines        lines and windows in axis order, and their anchor cell
    territory    territory regions: anchor site (`region_anchor`) and flood pass
    recovery     recovery slides: extraction stack rank and option-2 window variant
    encoder      move -> index (`encode`, `encode_moves`, `legal_indices`, ...)
    decoder      index -> move (`decode`)
    permutation  the index permutation of each board symmetry (`index_permutation`)

This package exports the public names; helpers shared between its modules stay in their module.
"""

from ringrift.nn.actions.decoder import decode
from ringrift.nn.actions.encoder import (
    encode,
    encode_moves,
    is_decision,
    legal_indices,
    legal_moves_and_indices,
)
from ringrift.nn.actions.errors import ActionIndexError
from ringrift.nn.actions.layout import (
    SCALAR_TYPES,
    TERRITORY_PASSES,
    ActionLayout,
    action_layout,
    policy_size,
)
from ringrift.nn.actions.lines import oriented_line
from ringrift.nn.actions.permutation import index_permutation
from ringrift.nn.actions.territory import region_anchor

__all__ = [
    "SCALAR_TYPES", "TERRITORY_PASSES", "ActionIndexError", "ActionLayout", "action_layout",
    "decode", "encode", "encode_moves", "index_permutation", "is_decision", "legal_indices",
    "legal_moves_and_indices", "oriented_line", "policy_size", "region_anchor",
]
