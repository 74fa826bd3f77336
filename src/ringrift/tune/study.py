"""`ringrift tune`: an Optuna study over the training flags, stored in SQLite.

Every trial is one `ringrift train` run (same data, same seed, same validation split, a fixed
number of epochs) with the parameters TPE draws from the search space (`tune.space`); it reports
its validation loss after every epoch and the median pruner stops trials that fall behind.

Why SQLite with heartbeats: the study lives in the storage file, so a killed `ringrift tune`
resumes by running it again (it counts the finished trials and runs the rest), and two
processes given the same `--storage` share one study. A trial whose process died stops beating;
after the grace period (2 heartbeats) the next trial start marks it failed and queues its
parameters again (`RetryFailedTrialCallback`).

The first trial of a new study is the default flags (within the space), so the summary can say
what tuning gained over the defaults.
"""

from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import math
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ringrift.atomic import atomic_path, atomic_write_text
from ringrift.errors import ConfigError, Interrupted, UserError
from ringrift.tune.space import Param, load_space

BASELINE_ATTR = "baseline"


@dataclass
class TuneSettings:
    board_type: str
    # keyword-only: a default ahead of the required fields (the `--num-players` default)
    num_players: int = field(default=2, kw_only=True)
    data_paths: list[str]
    storage: Path
    trials: int
    timeout: float | None = None
    space_path: str | None = None
    epochs: int = 5
    seed: int = 0
    study_name: str | None = None
    output_dir: Path | None = None  # default: the storage's folder
    heartbeat: int = 10  # seconds between a running trial's heartbeats
    fixed: dict[str, Any] = field(default_factory=dict)  # other TrainConfig fields, every trial

    @property
    def name(self) -> str:
        return self.study_name or f"{self.board_type}_{self.num_players}p"

    @property
    def folder(self) -> Path:
        return Path(self.output_dir) if self.output_dir else Path(self.storage).parent


def _check(settings: TuneSettings) -> list[Param]:
    """The search space, after a ConfigError naming the field of the first bad setting."""
    if settings.trials < 1:
        raise ConfigError("trials", "must be >= 1")
    if settings.timeout is not None and settings.timeout <= 0:
        raise ConfigError("timeout", "must be > 0")
    if settings.heartbeat < 1:
        raise ConfigError("heartbeat", "must be >= 1")
    for path in settings.data_paths:
        if not Path(path).is_file():
            raise ConfigError("data_paths", f"{path} does not exist")
    space = load_space(settings.space_path)
    clash = sorted(set(settings.fixed) & {p.name for p in space})
    if clash:
        raise UserError(f"{clash[0]} is both searched (space file) and fixed (a flag)")
    return space


def _study_identity(settings: TuneSettings, space: list[Param]) -> dict[str, Any]:
    """What a stored study must match to be resumed by these settings."""
    return {"board_type": settings.board_type, "num_players": settings.num_players,
            "data_sha256": [_sha256(p) for p in settings.data_paths],
            "epochs": settings.epochs, "seed": settings.seed, "fixed": settings.fixed,
            "space": [dataclasses.asdict(p) | {"choices": list(p.choices)} for p in space]}


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def open_study(settings: TuneSettings, space: list[Param]):
    """Create or load the study in `settings.storage` (UserError when it is another study)."""
    import optuna
    from optuna.storages import RDBStorage, RetryFailedTrialCallback

    settings.storage.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (heartbeats are "experimental")
        storage = RDBStorage(f"sqlite:///{settings.storage}",
                             heartbeat_interval=settings.heartbeat,
                             grace_period=2 * settings.heartbeat,
                             heartbeat_stale_trial_callback=RetryFailedTrialCallback(
                                 max_retry=2))
    identity = json.loads(json.dumps(_study_identity(settings, space)))
    try:
        existing = optuna.load_study(study_name=settings.name, storage=storage)
    except KeyError:
        existing = None
    if existing is not None:
        stored = existing.user_attrs.get("identity")
        if stored != identity:
            changed = next((k for k in identity if (stored or {}).get(k) != identity[k]), "?")
            raise ConfigError("study_name", f"{settings.name!r}: the study of that name in "
                                            f"{settings.storage} was made with another "
                                            f"{changed}; choose another name or storage")
    done = len(existing.trials) if existing is not None else 0
    # (a resumed study must not replay the random start-up draws of the first process)
    sampler = optuna.samplers.TPESampler(seed=settings.seed + done,
                                         n_startup_trials=min(5, settings.trials))
    pruner = optuna.pruners.MedianPruner(n_startup_trials=2, n_warmup_steps=1)
    study = optuna.create_study(study_name=settings.name, storage=storage, sampler=sampler,
                                pruner=pruner, direction="minimize", load_if_exists=True)
    if existing is None:
        study.set_user_attr("identity", identity)
        defaults = _default_params(space)
        study.enqueue_trial(defaults, user_attrs={BASELINE_ATTR: True})
    return study


def _default_params(space: list[Param]) -> dict[str, Any]:
    """The `ringrift train` defaults of the searched flags that lie inside the space."""
    from ringrift.train.config import TrainConfig

    defaults = {f.name: f.default for f in dataclasses.fields(TrainConfig)}
    return {p.name: defaults[p.name] for p in space if p.contains(defaults.get(p.name))}


def _objective(settings: TuneSettings, space: list[Param]):
    import optuna

    from ringrift.train.config import TrainConfig
    from ringrift.train.trainer import train

    def objective(trial: optuna.Trial) -> float:
        params = {p.name: p.suggest(trial) for p in space}
        folder = settings.folder / "trials" / f"trial_{trial.number:04d}"
        cfg = TrainConfig(board_type=settings.board_type, num_players=settings.num_players,
                          data_paths=list(settings.data_paths),
                          save_path=str(folder / "model.pt"), epochs=settings.epochs,
                          seed=settings.seed, progress=False, tensorboard=False,
                          checkpoint_every=0, keep_checkpoints=1,
                          **settings.fixed, **params)

        losses: list[float] = []

        def report(record: dict[str, Any]) -> None:
            losses.append(objective_loss(record))
            trial.report(losses[-1], record["epoch"])
            if trial.should_prune():
                raise optuna.TrialPruned(f"epoch {record['epoch']}: loss {losses[-1]:.4f}")

        result = train(cfg, out=io.StringIO(), on_epoch=report)
        if result.interrupted_by is not None:
            raise Interrupted(result.interrupted_by, f"trial {trial.number} interrupted; run the "
                              f"same `ringrift tune` command to resume the study")
        return min(losses) if losses else math.nan

    return objective


def objective_loss(record: dict[str, Any]) -> float:
    """Validation policy cross-entropy + value MSE (+ rank CE when present), unweighted: the
    trainer's validation loss uses the run's --value-weight, so searching that weight would
    otherwise lower the score without a better model. (Training loss when there is no
    validation split.)"""
    prefix = "val_" if "val_policy_ce" in record else "train_"
    total = record[f"{prefix}policy_ce"] + record[f"{prefix}value_mse"]
    return float(total + record.get(f"{prefix}rank_ce", 0.0))


def _counted_states():
    from optuna.trial import TrialState

    return (TrialState.COMPLETE, TrialState.PRUNED)


def run_tune(settings: TuneSettings, out: TextIO) -> dict[str, Any]:
    """Run (or resume) the study until `settings.trials` trials finished (complete or pruned)
    or the timeout passed; write the summary, best parameters and plots; return the summary."""
    import optuna

    space = _check(settings)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = open_study(settings, space)
    finished = len(study.get_trials(deepcopy=False, states=_counted_states()))
    remaining = settings.trials - finished
    if finished:
        print(f"study {settings.name!r} in {settings.storage}: {finished} trials finished, "
              f"{max(remaining, 0)} to run", file=out)

    def log_trial(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        value = "-" if trial.value is None else f"{trial.value:.4f}"
        params = ", ".join(f"{k}={_fmt(v)}" for k, v in trial.params.items())
        print(f"trial {trial.number:3d} {trial.state.name.lower():8} loss {value:>8}  {params}",
              file=out, flush=True)

    if remaining > 0:
        from optuna.study import MaxTrialsCallback

        study.optimize(_objective(settings, space), n_trials=remaining,
                       timeout=settings.timeout, gc_after_trial=True,
                       callbacks=[MaxTrialsCallback(settings.trials, states=_counted_states()),
                                  log_trial])
    return write_outputs(study, settings, out)


def train_command(settings: TuneSettings, params: dict[str, Any],
                  save_path: str = "models/tuned.pt") -> str:
    """The `ringrift train` command line that trains with `params` (and the fixed flags)."""
    parts = ["ringrift", "train", "--board-type", settings.board_type, "--num-players",
             str(settings.num_players)]
    for path in settings.data_paths:
        parts += ["--data-path", str(path)]
    parts += ["--save-path", save_path, "--epochs", str(settings.epochs), "--seed",
              str(settings.seed)]
    for name, value in {**settings.fixed, **params}.items():
        flag = "--" + name.replace("_", "-")
        if isinstance(value, bool):
            parts += [flag] if value else []
        elif value is not None:
            parts += [flag, _fmt(value)]
    return " ".join(parts)


def _fmt(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def write_outputs(study, settings: TuneSettings, out: TextIO) -> dict[str, Any]:
    """best_params.json, history.png and importance.png in the output folder, and the summary
    lines."""
    from optuna.trial import TrialState

    folder = settings.folder
    folder.mkdir(parents=True, exist_ok=True)
    trials = study.get_trials(deepcopy=False)
    count = {s.name.lower(): sum(t.state == s for t in trials) for s in TrialState}
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    baseline = next((t for t in complete if t.user_attrs.get(BASELINE_ATTR)), None)
    summary: dict[str, Any] = {"study": settings.name, "storage": str(settings.storage),
                               "trials": count}
    if not complete:
        print(f"no trial completed ({count['pruned']} pruned, {count['fail']} failed)",
              file=out)
    else:
        best = study.best_trial
        summary.update({"best_value": best.value, "best_trial": best.number,
                        "best_params": best.params,
                        "train_command": train_command(settings, best.params)})
        if baseline is not None:
            summary["defaults"] = {"value": baseline.value, "trial": baseline.number,
                                   "params": baseline.params}
        print(f"{count['complete']} complete, {count['pruned']} pruned, {count['fail']} failed",
              file=out)
        if baseline is not None:
            print(f"defaults: val loss {baseline.value:.4f} (trial {baseline.number})", file=out)
        print(f"best:     val loss {best.value:.4f} (trial {best.number}): "
              + ", ".join(f"{k}={_fmt(v)}" for k, v in best.params.items()), file=out)
        print(f"train with: {summary['train_command']}", file=out)
    summary["plots"] = _plots(study, folder, out)
    atomic_write_text(folder / "best_params.json", json.dumps(summary, indent=1) + "\n")
    print(f"wrote {folder / 'best_params.json'}", file=out)
    return summary


def _plots(study, folder: Path, out: TextIO) -> list[str]:
    """Optuna's history and importance plots as PNG (importance needs 2 complete trials)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as vis

    written = []
    for name, plot in (("history.png", vis.plot_optimization_history),
                       ("importance.png", vis.plot_param_importances)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # ("experimental" and tight-layout notes)
                ax = plot(study)
        except (ValueError, RuntimeError) as exc:
            print(f"note: no {name} ({exc})", file=out)
            continue
        fig = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
        fig.set_size_inches(8, 5)
        with atomic_path(folder / name, suffix=".png") as tmp:
            fig.savefig(tmp, format="png", dpi=100, bbox_inches="tight")
        plt.close(fig)
        written.append(str(folder / name))
    return written
