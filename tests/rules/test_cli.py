"""The `ringrift rules` and `ringrift bench engine` commands end to end."""

from __future__ import annotations

import json

from ringrift.cli.main import main


def test_rules_vectors_prints_a_line_per_vector_and_totals(shared_dir, capsys):
    assert main(["rules", "vectors", str(shared_dir / "vectors")]) == 0
    out = capsys.readouterr().out.strip().splitlines()
    assert out[-1].endswith("skipped") and " 0 failed" in out[-1]
    assert any(line.startswith("PASS ") for line in out)
    assert any(line.startswith("SKIP ") and "§6.9" in line for line in out)


def test_rules_vectors_fails_on_a_wrong_expectation(tmp_path, shared_dir, capsys):
    bundle = json.loads((shared_dir / "vectors" / "movement.vectors.json").read_text())
    vector = bundle["vectors"][0]
    vector["expectedOutput"]["assertions"]["markerCount"] = 99
    bundle["vectors"] = [vector]
    path = tmp_path / "bad.vectors.json"
    path.write_text(json.dumps(bundle))
    assert main(["rules", "vectors", str(path)]) == 1
    out = capsys.readouterr().out
    assert "FAIL" in out and "markerCount: expected 99" in out and "1 failed" in out


def test_rules_replay_json(shared_dir, capsys):
    trace = shared_dir / "traces" / "square8_2p.jsonl.gz"
    assert main(["rules", "replay", str(trace), "--max-games", "2", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    (report,) = data["files"]
    assert report["games"] == 2 and report["steps"] > 0
    assert set(report) == {"file", "games", "games_agreeing", "steps", "steps_agreeing",
                           "divergences"}


def test_bad_inputs_give_one_line_and_nonzero_exit(tmp_path, capsys):
    assert main(["rules", "vectors", str(tmp_path / "missing.json")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0 and "no such file" in err
    junk = tmp_path / "junk.jsonl.gz"
    junk.write_bytes(b"not gzip")
    assert main(["rules", "replay", str(junk)]) == 2
    assert "cannot read trace file" in capsys.readouterr().err


def test_bench_engine_json(capsys):
    assert main(["bench", "engine", "--games", "2", "--seed", "1", "--json", "--no-ops"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"moves_per_s", "cpu_moves_per_s", "decisions_per_s", "mean_game_length", "games",
            "moves"} <= set(data)
    assert data["games"] == 2 and data["moves"] > 0
