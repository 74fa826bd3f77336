"""Lifecycle stages of a registered model and the transitions allowed between them.

    from          to
    development   staging, rejected, archived
    staging       production, rejected, archived, development
    production    archived
    rejected      archived
    archived      development

A new model starts in development. Promoting to production archives the previous production
model of the same (board_type, num_players), so there is never more than one.
"""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"
    ARCHIVED = "archived"
    REJECTED = "rejected"


ALLOWED_TRANSITIONS: dict[Stage, frozenset[Stage]] = {
    Stage.DEVELOPMENT: frozenset({Stage.STAGING, Stage.REJECTED, Stage.ARCHIVED}),
    Stage.STAGING: frozenset({Stage.PRODUCTION, Stage.REJECTED, Stage.ARCHIVED,
                              Stage.DEVELOPMENT}),
    Stage.PRODUCTION: frozenset({Stage.ARCHIVED}),
    Stage.REJECTED: frozenset({Stage.ARCHIVED}),
    Stage.ARCHIVED: frozenset({Stage.DEVELOPMENT}),
}


def can_transition(current: Stage | str, target: Stage | str) -> bool:
    """True when moving a model from `current` to `target` is allowed."""
    return Stage(target) in ALLOWED_TRANSITIONS[Stage(current)]
