"""The model store: versions, lifecycle stages, lineage, ratings (SQLite)."""

from ringrift.registry.entry import ModelEntry, Transition
from ringrift.registry.stages import ALLOWED_TRANSITIONS, Stage, can_transition
from ringrift.registry.store import DEFAULT_REGISTRY, ModelRegistry, Registration

__all__ = ["ALLOWED_TRANSITIONS", "DEFAULT_REGISTRY", "ModelEntry", "ModelRegistry",
           "Registration", "Stage", "Transition", "can_transition"]
