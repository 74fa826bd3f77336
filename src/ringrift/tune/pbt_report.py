"""What `ringrift pbt` leaves behind: the per-generation table, the lineage plot, and the best
member (with the chain of models it descends from) in the model store."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from ringrift.atomic import atomic_path, atomic_write_text

_SHORT = {"learning_rate": "lr", "weight_decay": "wd", "entropy_weight": "ent",
          "value_weight": "vw", "label_smoothing": "ls"}


def format_table(rows: list[dict[str, Any]]) -> list[str]:
    """One line per member per generation: hyperparameters, Elo with its interval, parent."""
    head = (f"{'gen':>3} {'member':6} {'lr':>9} {'wd':>9} {'ent':>7} {'vw':>6} {'ls':>6} "
            f"{'val loss':>8} {'Elo':>6} {'95% CI':>15} parent")
    lines = [head]
    for r in rows:
        hp = r["hparams"]
        parent = r["parent"] or "-"
        if r.get("explored"):
            parent += " (exploit)"
        loss = f"{r['val_loss']:.4f}" if r.get("val_loss") is not None else "-"
        interval = f"[{r['low']:.0f}, {r['high']:.0f}]"
        lines.append(f"{r['generation']:>3} {r['member']:6} {hp['learning_rate']:>9.2e} "
                     f"{hp['weight_decay']:>9.2e} {hp['entropy_weight']:>7.4f} "
                     f"{hp['value_weight']:>6.3f} {hp['label_smoothing']:>6.3f} {loss:>8} "
                     f"{r['elo']:>6.0f} {interval:>15} "
                     f"{parent}")
    return lines


def lineage(state, member: str, generation: int) -> list[dict[str, Any]]:
    """The rows `member` of `generation` descends from, oldest first, itself last."""
    by_key = {(r["generation"], r["member"]): r for r in state.rows}
    chain = [by_key[generation, member]]
    while chain[-1]["parent"] is not None and chain[-1]["generation"] > 0:
        chain.append(by_key[chain[-1]["generation"] - 1, chain[-1]["parent"]])
    return chain[::-1]


def write_outputs(settings, state, out: TextIO) -> None:
    """generations.md (the table), lineage.png, and the final lines."""
    from ringrift.tune.pbt import best_row

    run_dir = Path(settings.run_dir)
    table = format_table(state.rows)
    atomic_write_text(run_dir / "generations.txt", "\n".join(table) + "\n")
    best = best_row(state)
    plot_lineage(state, best, run_dir / "lineage.png")
    print(f"best member: {best['member']} of generation {best['generation']}, Elo "
          f"{best['elo']:.0f} [{best['low']:.0f}, {best['high']:.0f}] vs "
          f"{settings.reference_pool[0]} = 0; lineage "
          + " <- ".join(f"g{r['generation']}:{r['member']}"
                        for r in reversed(lineage(state, best["member"], best["generation"])))
          , file=out)
    print(f"wrote {run_dir / 'generations.txt'}, {run_dir / 'lineage.png'}", file=out)


def plot_lineage(state, best: dict[str, Any], path: Path) -> None:
    """Members (rows) over generations (columns), coloured by Elo; a line from each member's
    parent in the previous generation, red where it copied another member (exploit); the best
    member's lineage drawn bold."""
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure

    fig = Figure(figsize=(9, 5))
    ax = fig.add_subplot(1, 1, 1)
    index = {r["member"]: int(r["member"][1:]) for r in state.rows}
    for r in state.rows:
        if r["parent"] is None or r["generation"] == 0:
            continue
        xs = [r["generation"] - 1, r["generation"]]
        ys = [index[r["parent"]], index[r["member"]]]
        ax.plot(xs, ys, color="tab:red" if r["explored"] else "0.75",
                lw=1.5 if r["explored"] else 1.0, zorder=1)
    chain = lineage(state, best["member"], best["generation"])
    ax.plot([r["generation"] for r in chain], [index[r["member"]] for r in chain],
            color="k", lw=3, zorder=2, label="best member's lineage")
    points = ax.scatter([r["generation"] for r in state.rows],
                        [index[r["member"]] for r in state.rows],
                        c=[r["elo"] for r in state.rows], cmap="viridis", s=80, zorder=3)
    fig.colorbar(points, ax=ax, label="Elo (first reference = 0)")
    ax.set_xlabel("generation")
    ax.set_ylabel("member")
    ax.set_yticks(sorted(set(index.values())))
    ax.set_xticks(sorted({r["generation"] for r in state.rows}))
    ax.set_title("PBT lineage (red: exploit = copied weights + perturbed hyperparameters)")
    ax.legend(loc="best", fontsize=8)
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=100)


def register_best(settings, state, out: TextIO) -> list[int]:
    """Register the best member's lineage (oldest first, each with its parent) in the model
    store; the best member is the last entry, in development. Returns the ids."""
    from ringrift.registry import ModelRegistry
    from ringrift.tune.pbt import best_row

    best = best_row(state)
    ids: list[int] = []
    with ModelRegistry(settings.registry) as registry:
        for r in lineage(state, best["member"], best["generation"]):
            reg = registry.register(
                r["model"], settings.name, board_type=settings.board_type,
                num_players=settings.num_players, parent=ids[-1] if ids else None,
                metrics=json.loads(json.dumps({"pbt": {
                    "generation": r["generation"], "member": r["member"],
                    "hparams": r["hparams"], "val_loss": r["val_loss"], "steps": r["steps"],
                    "run_dir": str(settings.run_dir)}})),
                rating=(r["elo"], r["low"], r["high"]))
            ids.append(reg.id)
    print(f"registered {settings.name} (model id {ids[-1]}, development) with its lineage of "
          f"{len(ids)} models in {settings.registry}", file=out)
    return ids
