"""The engine against the contract vectors and the reference games of ../shared."""

from __future__ import annotations

import pytest

from ringrift.rules.replay import replay_file
from ringrift.rules.vectors import KNOWN_BAD_VECTORS, load_vector_files, run_vector


def test_every_vector_passes_or_is_skipped_with_a_rules_reason(shared_dir):
    vectors = load_vector_files([str(shared_dir / "vectors")])
    assert vectors, "no vectors found"
    results = [run_vector(v) for _, v in vectors]
    failures = [r.line() for r in results if r.outcome == "fail"]
    assert not failures, "\n".join(failures)
    passed = [r for r in results if r.outcome == "pass"]
    assert len(passed) >= 25
    for r in results:
        if r.outcome == "skip":
            assert r.detail.startswith("§"), r.line()


def test_skip_list_only_names_vectors_documented_as_inconsistent():
    for pattern, reason in KNOWN_BAD_VECTORS:
        assert reason.startswith(("§6.9", "§4.7")), pattern


@pytest.mark.parametrize("name", ["square8_2p", "square8_3p", "hex8_2p", "square19_2p"])
def test_reference_games_replay_with_only_listed_deviations(shared_dir, name):
    report = replay_file(str(shared_dir / "traces" / f"{name}.jsonl.gz"))
    assert report.games >= 5
    unexplained = [d for d in report.divergences if d.known_deviation is None]
    assert not unexplained, [d.as_json() for d in unexplained]
    # every game either agrees end to end or hit a listed deviation
    games_with_known = {d.game for d in report.divergences}
    assert report.games_agreeing + len(games_with_known) == report.games
    assert report.steps_agreeing >= 0.95 * report.steps
