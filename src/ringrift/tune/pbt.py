"""`ringrift pbt`: population-based training, a compact synchronous exploit/explore loop.

Each generation every member trains a fixed number of optimizer steps on the same data (one
`train()` run: constant learning rate, its own hyperparameters, starting from its weights and
AdamW moments of the previous generation), then the whole population is scored by a short match
series against a fixed reference pool, one Bradley-Terry fit per generation (`evaluate.elo`,
the first reference anchored at 0). The bottom quartile (at least one member) copies the
weights and optimizer state of a top-quartile member (exploit) and perturbs that member's
hyperparameters (explore, `tune.hparams`).

Why our own loop rather than Ray Tune's PopulationBasedTraining: Ray's scheduler perturbs each
trial asynchronously on a metric that trial reports alone, while here the score is one joint
Elo fit over the whole generation's games (members are only comparable through the same fit),
the members' weights and optimizer state are our training checkpoints (the trainer's
--init-weights / --init-optimizer), and a killed run must resume from our own state file.
Ray would add a cluster runtime on a 2-core machine for what is a loop of a few dozen lines.
The scorer is a seam (`PopulationScorer`): match games run on the executor (`ringrift.exec`:
local processes, `--workers`, by default; `--backend ray` for Ray actors).

A killed run resumes: `pbt_state.json` (written atomically after every member's training and
after every generation's scoring) records the generation in progress, which members are
trained, and the exploit decisions; a member killed mid-training resumes from its checkpoint.
"""

from __future__ import annotations

import hashlib
import io
import json
import random
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ringrift.atomic import atomic_write_text
from ringrift.config_defaults import DEFAULT_WORKERS
from ringrift.errors import ConfigError, Interrupted, UserError, check_fields
from ringrift.rules.spec import GameSpec
from ringrift.tune.hparams import BOUNDS, default_hparams, perturb_hparams, sample_hparams

# {member name: model file}, generation -> {member name: (elo, low, high)}
PopulationScorer = Callable[[dict[str, Path], int], dict[str, tuple[float, float, float]]]
STATE_FILE = "pbt_state.json"


@dataclass
class PBTSettings:
    board_type: str
    # keyword-only: a default ahead of the required fields (the `--num-players` default)
    num_players: int = field(default=2, kw_only=True)
    data_paths: list[str]
    run_dir: Path
    population_size: int = 8
    generations: int = 10
    steps_per_generation: int = 50
    batch_size: int = 256
    reference_pool: tuple[str, ...] = ("random", "heuristic")
    games: int = 10  # per member per reference opponent
    seed: int = 0
    model_version: str = "v2"
    channels: int | None = None
    blocks: int | None = None
    device: str = "auto"
    workers: int = DEFAULT_WORKERS
    backend: str = "local"  # where the match games run (ringrift.exec): local or ray
    ray_address: str | None = None
    registry: Path | None = None  # None: do not register
    model_name: str | None = None
    baseline: bool = False  # also train one default run with the same total steps

    @property
    def spec(self) -> GameSpec:
        return GameSpec.checked(self.board_type, self.num_players, error=UserError)

    def validate(self) -> None:
        """Raise ConfigError naming the field of the first bad setting."""
        checks = [
            (self.population_size >= 2, "population_size",
             "must be >= 2 (exploit needs a better member to copy)"),
            (self.generations >= 1, "generations", "must be >= 1"),
            (self.steps_per_generation >= 1, "steps_per_generation", "must be >= 1"),
            (self.batch_size >= 1, "batch_size", "must be >= 1"),
            (self.games >= 1, "games", "must be >= 1"),
            (len(self.reference_pool) >= 1, "reference_pool", "needs at least one engine"),
        ]
        check_fields(checks)  # the error names the field, the CLI the flag
        from ringrift.exec import check_backend

        check_backend(self.backend, self.ray_address)
        if not self.data_paths:
            raise ConfigError("data_paths", "is empty: no training data (FILE.npz)")
        for path in self.data_paths:
            if not Path(path).is_file():
                raise ConfigError("data_paths", f"{path} does not exist")

    @property
    def name(self) -> str:
        return self.model_name or f"pbt_{self.board_type}_{self.num_players}p"

    def identity(self) -> dict[str, Any]:
        """What a resumed run must match (generations may grow)."""
        out = {k: v for k, v in asdict(self).items()
               if k not in ("generations", "run_dir", "device", "workers", "registry",
                            "data_paths", "baseline", "model_name", "backend",
                            "ray_address")}
        out["reference_pool"] = list(self.reference_pool)
        out["data_sha256"] = [_sha256(p) for p in self.data_paths]
        return out


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


@dataclass
class PBTState:
    identity: dict[str, Any]
    generation: int = 0  # the generation in progress
    # per member: hparams, init_model / init_optimizer (None at generation 0), parent, explored
    members: list[dict[str, Any]] = field(default_factory=list)
    trained: dict[str, dict[str, Any]] = field(default_factory=dict)  # this generation's
    rows: list[dict[str, Any]] = field(default_factory=list)  # one per member per generation
    baseline: dict[str, Any] | None = None
    registered: list[int] = field(default_factory=list)

    def save(self, run_dir: Path) -> None:
        atomic_write_text(run_dir / STATE_FILE, json.dumps(asdict(self), indent=1) + "\n")

    @classmethod
    def load(cls, run_dir: Path) -> PBTState | None:
        path = run_dir / STATE_FILE
        if not path.exists():
            return None
        try:
            return cls(**json.loads(path.read_text()))
        except (json.JSONDecodeError, TypeError) as exc:
            raise UserError(f"{path}: unreadable PBT state ({exc})") from None


def member_name(index: int) -> str:
    return f"m{index:02d}"


def initial_members(settings: PBTSettings) -> list[dict[str, Any]]:
    """Member 0 has the training defaults, the others random draws within the bounds."""
    rng = random.Random(settings.seed)
    members = []
    for m in range(settings.population_size):
        hp = default_hparams() if m == 0 else sample_hparams(rng)
        members.append({"hparams": hp, "init_model": None, "init_optimizer": None,
                        "parent": None, "explored": False})
    return members


def exploit_explore(members: list[dict[str, Any]], trained: dict[str, dict[str, Any]],
                    elo: dict[str, tuple[float, float, float]], rng: random.Random
                    ) -> list[dict[str, Any]]:
    """The next generation's members: each continues from its own weights and optimizer state,
    except the bottom quartile (at least one), which copies a top-quartile member's weights,
    optimizer state and perturbed hyperparameters."""
    n = len(members)
    ranked = sorted(range(n), key=lambda m: (-elo[member_name(m)][0], m))
    q = max(1, n // 4)
    top, bottom = ranked[:q], set(ranked[-q:])
    out = []
    for m in range(n):
        if m in bottom:
            parent = rng.choice(top)
            hp = perturb_hparams(members[parent]["hparams"], rng)
            explored = True
        else:
            parent, hp, explored = m, dict(members[m]["hparams"]), False
        source = trained[member_name(parent)]
        out.append({"hparams": hp, "init_model": source["model"],
                    "init_optimizer": source["optimizer"], "parent": parent,
                    "explored": explored})
    return out


def _train_member(settings: PBTSettings, generation: int, index: int, member: dict[str, Any],
                  out: TextIO) -> dict[str, Any]:
    from ringrift.train.checkpoint import CheckpointManager
    from ringrift.train.config import TrainConfig
    from ringrift.train.trainer import train
    from ringrift.tune.study import objective_loss

    save = settings.run_dir / f"gen_{generation:03d}" / f"{member_name(index)}.pt"
    ckpt = save.with_name(f"{save.stem}_ckpt")
    manager = CheckpointManager(ckpt)
    hp = member["hparams"]
    cfg = TrainConfig(
        board_type=settings.board_type, num_players=settings.num_players,
        data_paths=list(settings.data_paths), save_path=str(save),
        model_version=settings.model_version, batch_size=settings.batch_size, epochs=1,
        samples_per_epoch=settings.steps_per_generation * settings.batch_size,
        lr_scheduler="none", learning_rate=hp["learning_rate"],
        weight_decay=hp["weight_decay"], entropy_weight=hp["entropy_weight"],
        value_weight=hp["value_weight"], label_smoothing=hp["label_smoothing"],
        seed=settings.seed * 10007 + generation * 101 + index, split_seed=settings.seed,
        init_weights=member["init_model"], init_optimizer=member["init_optimizer"],
        resume=bool(manager.checkpoints() or manager.best_path()),
        channels=settings.channels, blocks=settings.blocks, device=settings.device,
        progress=False, tensorboard=False, checkpoint_every=0, keep_checkpoints=1)
    result = train(cfg, out=io.StringIO())
    if result.interrupted_by is not None:
        raise Interrupted(result.interrupted_by, f"PBT interrupted while training "
                          f"{member_name(index)} of generation {generation}; run the same "
                          f"command to resume")
    best = result.metrics.get("best") or {}
    return {"model": str(result.save_path), "optimizer": str(manager.checkpoints()[-1]),
            "steps": result.metrics["steps"],
            "val_loss": objective_loss(best) if best else None}


class MatchPoolScorer:
    """Each model plays `games` games (policy-only) against every reference engine; one
    Bradley-Terry fit over all of them, the first reference anchored at Elo 0."""

    def __init__(self, spec: GameSpec, pool: tuple[str, ...], games: int,
                 seed: int = 0, workers: int = DEFAULT_WORKERS, backend: str = "local",
                 ray_address: str | None = None) -> None:
        self.spec = spec
        self.pool, self.games, self.seed, self.workers = tuple(pool), games, seed, workers
        self.backend, self.ray_address = backend, ray_address

    def check(self) -> None:
        from ringrift.evaluate.engine_spec import EngineSpec

        for engine in self.pool:
            EngineSpec.build(engine).check(self.spec)

    def __call__(self, models: dict[str, Path], generation: int
                 ) -> dict[str, tuple[float, float, float]]:
        from ringrift.ai.options import EngineOptions
        from ringrift.evaluate.elo import fit_elo
        from ringrift.evaluate.engine_spec import EngineSpec
        from ringrift.evaluate.match import play_match
        from ringrift.evaluate.pairwise import PairwiseResults

        pairs = PairwiseResults()
        refs = [EngineSpec.build(engine) for engine in self.pool]
        for ref in refs:
            pairs.add_participant(ref.name)
        for k, (name, path) in enumerate(models.items()):
            me = EngineSpec.build("policy-only", EngineOptions(model_path=str(path)), name=name)
            for r, ref in enumerate(refs):
                result = play_match(me, ref, self.spec, self.games,
                                    seed=self.seed * 100003 + generation * 1009 + k * 31 + r,
                                    workers=self.workers, backend=self.backend,
                                    ray_address=self.ray_address)
                for score, count in ((1.0, result.wins), (0.5, result.draws),
                                     (0.0, result.losses)):
                    for _ in range(count):
                        pairs.add(name, ref.name, score)
        fit = fit_elo(pairs, anchor=refs[0].name)
        return {name: (fit[name].elo, fit[name].low, fit[name].high) for name in models}


def run_pbt(settings: PBTSettings, *, scorer: PopulationScorer | None = None,
            out: TextIO) -> PBTState:
    """Run (or resume) population-based training; writes the table, the lineage plot and
    registers the best member (see the module docstring)."""
    from ringrift.tune.pbt_report import format_table, register_best, write_outputs

    settings.validate()
    if scorer is None:
        scorer = MatchPoolScorer(settings.spec, settings.reference_pool, settings.games, settings.seed,
                                 settings.workers, settings.backend, settings.ray_address)
    if hasattr(scorer, "check"):
        scorer.check()  # a bad reference engine fails before any training
    run_dir = settings.run_dir
    run_dir.mkdir(parents=True, exist_ok=True)
    identity = json.loads(json.dumps(settings.identity()))
    state = PBTState.load(run_dir)
    if state is None:
        state = PBTState(identity=identity, members=initial_members(settings))
        state.save(run_dir)
    elif state.identity != identity:
        changed = next(k for k in identity if state.identity.get(k) != identity[k])
        raise ConfigError("run_dir", f"{run_dir} holds a PBT run with another {changed}; "
                                     "choose another folder")
    else:
        print(f"resuming {run_dir}: generation {state.generation}, "
              f"{len(state.trained)}/{settings.population_size} members trained", file=out)
    while state.generation < settings.generations:
        g = state.generation
        for m, member in enumerate(state.members):
            name = member_name(m)
            if name in state.trained:
                continue
            state.trained[name] = _train_member(settings, g, m, member, out)
            state.save(run_dir)
        elo = scorer({member_name(m): Path(state.trained[member_name(m)]["model"])
                      for m in range(len(state.members))}, g)
        rows = []
        for m, member in enumerate(state.members):
            name = member_name(m)
            e, low, high = elo[name]
            rows.append({"generation": g, "member": name, "hparams": member["hparams"],
                         "elo": e, "low": low, "high": high,
                         "parent": None if member["parent"] is None
                         else member_name(member["parent"]),
                         "explored": member["explored"], **state.trained[name]})
        for line in format_table(rows):
            print(line, file=out)
        rng = random.Random(settings.seed * 7919 + g)
        next_members = exploit_explore(state.members, state.trained, elo, rng)
        state.rows.extend(rows)
        state.members, state.trained, state.generation = next_members, {}, g + 1
        state.save(run_dir)
    if settings.baseline and state.baseline is None:
        state.baseline = _baseline(settings, state, scorer, out)
        state.save(run_dir)
    write_outputs(settings, state, out)
    if settings.registry is not None:
        state.registered = register_best(settings, state, out)
        state.save(run_dir)
    return state


def best_row(state: PBTState) -> dict[str, Any]:
    """The top-Elo member of the last finished generation."""
    last = max(r["generation"] for r in state.rows)
    return max((r for r in state.rows if r["generation"] == last),
               key=lambda r: (r["elo"], -int(r["member"][1:])))


def _baseline(settings: PBTSettings, state: PBTState, scorer: PopulationScorer,
              out: TextIO) -> dict[str, Any]:
    """One run with the default hyperparameters (cosine schedule) for the population's steps
    per member, scored in one fit with the best member."""
    from ringrift.train.checkpoint import CheckpointManager
    from ringrift.train.config import TrainConfig
    from ringrift.train.trainer import train

    save = settings.run_dir / "baseline" / "default.pt"
    manager = CheckpointManager(save.with_name(f"{save.stem}_ckpt"))
    cfg = TrainConfig(
        board_type=settings.board_type, num_players=settings.num_players,
        data_paths=list(settings.data_paths), save_path=str(save),
        model_version=settings.model_version, batch_size=settings.batch_size,
        epochs=state.generation, samples_per_epoch=settings.steps_per_generation
        * settings.batch_size, seed=settings.seed * 10007, split_seed=settings.seed,
        resume=bool(manager.checkpoints() or manager.best_path()), channels=settings.channels,
        blocks=settings.blocks, device=settings.device, progress=False, tensorboard=False,
        checkpoint_every=0, keep_checkpoints=1)
    result = train(cfg, out=io.StringIO())
    if result.interrupted_by is not None:
        raise Interrupted(result.interrupted_by, "PBT interrupted while training the baseline; "
                          "run the same command to resume")
    best = best_row(state)
    elo = scorer({best["member"]: Path(best["model"]), "baseline": Path(result.save_path)},
                 state.generation)
    e, low, high = elo["baseline"]
    be, blow, bhigh = elo[best["member"]]
    print(f"baseline (defaults, {result.metrics['steps']} steps): Elo {e:.0f} "
          f"[{low:.0f}, {high:.0f}]; best member {best['member']}: Elo {be:.0f} "
          f"[{blow:.0f}, {bhigh:.0f}] (one fit)", file=out)
    return {"model": str(result.save_path), "steps": result.metrics["steps"],
            "elo": e, "low": low, "high": high, "best_member": best["member"],
            "best_elo": be, "best_low": blow, "best_high": bhigh}


__all__ = ["BOUNDS", "MatchPoolScorer", "PBTSettings", "PBTState", "exploit_explore",
           "initial_members", "run_pbt"]
