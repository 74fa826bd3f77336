"""Summarize bench/issue21_loop_ab.sh: one row per arm, seeds pooled, with Wilson intervals.

usage: python bench/issue21_loop_summary.py WORKDIR
"""

from __future__ import annotations

import json
import sys
from collections import defaultdict
from pathlib import Path

from ringrift.evaluate.wilson import wilson_interval


def _json(path: Path) -> dict:
    """The file's object; {} while it is missing or still being written."""
    text = path.read_text() if path.exists() else ""
    return json.loads(text) if text.strip() else {}


def _rate(w: int, d: int, losses: int) -> str:
    games = w + d + losses
    if not games:
        return "-"
    lo, hi = wilson_interval(w, d, losses)
    return f"{w}-{d}-{losses} ({(w + d / 2) / games:.0%} [{lo:.0%}, {hi:.0%}])"


def main(workdir: str) -> None:
    w = Path(workdir)
    rows: dict[str, dict] = defaultdict(lambda: defaultdict(list))
    for run in sorted(p for p in w.iterdir() if (p / "done").exists()):
        arm, seed = run.name.rsplit("-s", 1)
        iters = sorted(run.glob("iter_*"))
        last = _json(iters[-1] / "train.json").get("test", {})
        r = rows[arm]
        r["seeds"].append(seed)
        r["loss"].append(last.get("loss"))
        r["acc"].append(last.get("policy_accuracy"))
        r["seconds"].append(float((run / "done").read_text()))
        r["promoted"].append(sum(_json(i / "promote.json").get("promoted", False) for i in iters))
        for name in ("heuristic", "base"):
            m = _json(w / "final" / f"{arm}-s{seed}-{name}.json")
            if m:
                for k in ("wins", "draws", "losses"):
                    r[f"{name}_{k}"].append(m[k])
    print("| arm | seeds | test loss (per seed) | policy acc (per seed) | promotions | "
          "wall s | vs heuristic (gumbel 16) | vs base, same seed |")
    print("|---|---|---|---|---|---|---|---|")
    for arm, r in rows.items():
        loss = ", ".join(f"{x:.4f}" for x in r["loss"] if x is not None)
        acc = ", ".join(f"{x:.3f}" for x in r["acc"] if x is not None)
        print(f"| {arm} | {' '.join(r['seeds'])} | {loss} | {acc} | "
              f"{'+'.join(str(p) for p in r['promoted'])} | "
              f"{'+'.join(f'{s:.0f}' for s in r['seconds'])} | "
              f"{_rate(*(sum(r[f'heuristic_{k}']) for k in ('wins', 'draws', 'losses')))} | "
              f"{_rate(*(sum(r[f'base_{k}']) for k in ('wins', 'draws', 'losses')))} |")


if __name__ == "__main__":
    main(sys.argv[1])
