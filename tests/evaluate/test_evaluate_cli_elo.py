import json

import numpy as np

from ringrift.cli.main import main
from ringrift.evaluate.sprt import expected_score


def results_file(tmp_path, seed=0):
    rng = np.random.default_rng(seed)
    strength = {"random": 0.0, "model_v1": 150.0, "model_v2": 300.0, "model_v10": 350.0}
    names = list(strength)
    lines = []
    for i, a in enumerate(names):
        for b in names[i + 1:]:
            for _ in range(30):
                a_wins = rng.random() < expected_score(strength[a] - strength[b])
                lines.append({"participants": [a, b], "ranks": [1, 2] if a_wins else [2, 1]})
    path = tmp_path / "results.jsonl"
    path.write_text("".join(json.dumps(x) + "\n" for x in lines))
    return path


def test_table_output(tmp_path, capsys):
    path = results_file(tmp_path)
    assert main(["elo", "--board-type", "square8", "--num-players", "2",
                 "--results", str(path)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split()[:4] == ["RANK", "NAME", "ELO", "95%"]
    assert out[1].split()[1] == "model_v10"
    assert any(line.split()[1:3] == ["random", "0"] for line in out[1:5])
    assert "anchor random = 0" in out[-1]


def test_json_anchor_and_plot(tmp_path, capsys):
    path = results_file(tmp_path)
    plot = tmp_path / "elo.png"
    assert main(["elo", "--board-type", "square8", "--num-players", "2", "--results",
                 str(path), "--anchor", "model_v1=1000", "--plot", str(plot), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["anchor"] == {"name": "model_v1", "elo": 1000.0}
    assert data["games"] == 180
    by_name = {r["name"]: r for r in data["ratings"]}
    assert by_name["model_v1"]["elo"] == 1000.0
    assert by_name["random"]["elo"] < 1000.0 < by_name["model_v2"]["elo"]
    assert plot.read_bytes()[:4] == b"\x89PNG"


def test_user_errors_exit_2_with_one_line(tmp_path, capsys):
    path = results_file(tmp_path)
    base = ["elo", "--board-type", "square8", "--num-players", "2", "--results"]
    cases = [
        (base + [str(path), "--anchor", "nobody=0"], "anchor 'nobody'"),
        (base + [str(path), "--anchor", "random=abc"], "--anchor"),
        (base + [str(tmp_path / "missing.jsonl")], "does not exist"),
        (["elo", "--board-type", "hex8", "--num-players", "2", "--results", str(path)],
         None),  # records carry no board type, so they are taken as hex8: fine
    ]
    for argv, message in cases:
        code = main(argv)
        err = capsys.readouterr().err
        if message is None:
            assert code == 0
            continue
        assert code == 2
        assert err.count("\n") == 1 and message in err and err.startswith("ringrift elo: error")
    (tmp_path / "other.jsonl").write_text(
        '{"participants": ["a", "b"], "ranks": [1, 2], "board_type": "hex8"}\n')
    assert main(base + [str(tmp_path / "other.jsonl")]) == 2
    assert "no square8 2-player games" in capsys.readouterr().err
