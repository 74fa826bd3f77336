"""Model configuration (what a network looks like) and the named presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from ringrift.nn.architectures import PRESETS  # the one table of named architectures
from ringrift.nn.models.io_defaults import default_board_io, valid_mask_for
from ringrift.rules.spec import GameSpec


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to build a policy/value network. JSON-able through `to_dict`.

    Policy vector layout (fixed contract): index = plane*H*W + y*W + x for the spatial part,
    followed by `scalar_actions` scalar entries.
    """

    model_version: str
    board_type: str
    num_players: int
    in_channels: int
    num_globals: int
    height: int
    width: int
    policy_planes: int
    scalar_actions: int
    valid_mask: tuple[tuple[int, ...], ...]
    channels: int
    blocks: int
    se: bool
    rank_head: bool = False
    ownership_head: bool = False  # auxiliary: final owner of each cell
    game_length_head: bool = False  # auxiliary: moves left in the game

    def __post_init__(self) -> None:
        # Accept lists or arrays for the mask; store an immutable, hashable 0/1 grid.
        mask = tuple(tuple(int(bool(v)) for v in row) for row in self.valid_mask)
        object.__setattr__(self, "valid_mask", mask)
        if self.model_version not in PRESETS:
            raise ValueError(f"unknown model version {self.model_version!r} "
                             f"(expected one of {', '.join(PRESETS)})")
        self.spec  # noqa: B018 (RulesError, a ValueError, naming a bad board or count)
        if len(mask) != self.height or any(len(row) != self.width for row in mask):
            raise ValueError(f"valid_mask must be {self.height}x{self.width}")
        for name in ("in_channels", "height", "width", "channels", "blocks"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        for name in ("num_globals", "policy_planes", "scalar_actions"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0")
        if self.policy_size < 1:
            raise ValueError("policy has no entries (policy_planes and scalar_actions are 0)")

    @property
    def spec(self) -> GameSpec:
        return GameSpec(self.board_type, self.num_players)

    @property
    def policy_size(self) -> int:
        return self.policy_planes * self.height * self.width + self.scalar_actions

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["valid_mask"] = [list(row) for row in self.valid_mask]
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelConfig:
        names = {f.name for f in fields(cls)}
        missing = names - set(data) - {"rank_head", "ownership_head", "game_length_head"}
        if missing:
            raise ValueError(f"model config lacks {', '.join(sorted(missing))}")
        return cls(**{k: v for k, v in data.items() if k in names})

    def with_players(self, num_players: int) -> ModelConfig:
        return replace(self, num_players=num_players)


def make_config(model_version: str, spec: GameSpec, *,
                in_channels: int | None = None, num_globals: int | None = None,
                policy_planes: int | None = None, scalar_actions: int | None = None,
                height: int | None = None, width: int | None = None,
                valid_mask: Any = None, channels: int | None = None,
                blocks: int | None = None, se: bool | None = None,
                rank_head: bool = False, ownership_head: bool = False,
                game_length_head: bool = False) -> ModelConfig:
    """Fill a ModelConfig from a preset and the board's input/output sizes; arguments override."""
    if model_version not in PRESETS:
        raise ValueError(f"unknown model version {model_version!r} "
                         f"(expected one of {', '.join(PRESETS)})")
    d_in, d_glob, d_planes, d_scalar, d_h, d_w, d_mask = default_board_io(spec)
    preset = PRESETS[model_version]
    if height is not None or width is not None:
        height = height if height is not None else d_h
        width = width if width is not None else d_w
        if valid_mask is None:
            valid_mask = valid_mask_for(spec.board_type, height, width)
    return ModelConfig(
        model_version=model_version, board_type=spec.board_type, num_players=spec.num_players,
        in_channels=in_channels if in_channels is not None else d_in,
        num_globals=num_globals if num_globals is not None else d_glob,
        height=height if height is not None else d_h,
        width=width if width is not None else d_w,
        policy_planes=policy_planes if policy_planes is not None else d_planes,
        scalar_actions=scalar_actions if scalar_actions is not None else d_scalar,
        valid_mask=valid_mask if valid_mask is not None else d_mask,
        channels=channels if channels is not None else preset["channels"],
        blocks=blocks if blocks is not None else preset["blocks"],
        se=se if se is not None else preset["se"],
        rank_head=rank_head, ownership_head=ownership_head, game_length_head=game_length_head,
    )
