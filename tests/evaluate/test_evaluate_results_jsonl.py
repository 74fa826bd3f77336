import json

import pytest

from ringrift.errors import UserError
from ringrift.evaluate.pairwise import GameResult
from ringrift.evaluate.results_jsonl import read_results_jsonl


def write(path, lines):
    path.write_text("\n".join(l if isinstance(l, str) else json.dumps(l) for l in lines) + "\n")
    return path


def test_reads_games_and_filters_configuration(tmp_path):
    f = write(tmp_path / "r.jsonl", [
        {"participants": ["a", "b"], "ranks": [1, 2]},
        "",
        {"participants": ["a", "b"], "ranks": [2, 1], "board_type": "hex8"},
        {"participants": ["a", "b"], "ranks": [1, 1], "board_type": "square8",
         "num_players": 2},
        {"participants": ["a", "b", "c"], "ranks": [1, 2, 3], "num_players": 3},
    ])
    games = read_results_jsonl(f, board_type="square8", num_players=2)
    assert games == [GameResult(("a", "b"), (1, 2)), GameResult(("a", "b"), (1, 1))]


@pytest.mark.parametrize("line,message", [
    ("{not json", "r.jsonl:2: not valid JSON"),
    ("[1, 2]", "r.jsonl:2: expected a JSON object"),
    ('{"participants": ["a"], "ranks": [1]}', "at least 2"),
    ('{"participants": ["a", "b"], "ranks": [1]}', "2 participants but 1 ranks"),
    ('{"participants": ["a", "b"], "ranks": [0, 1]}', "'ranks'"),
    ('{"participants": ["a", 3], "ranks": [1, 2]}', "'participants'"),
    ('{"participants": ["a", "b", "c"], "ranks": [1, 2, 3]}', "expected 2"),
])
def test_bad_lines_name_file_and_line(tmp_path, line, message):
    f = write(tmp_path / "r.jsonl", ['{"participants": ["a", "b"], "ranks": [1, 2]}', line])
    with pytest.raises(UserError, match="r.jsonl:2"):
        read_results_jsonl(f, num_players=2)
    with pytest.raises(UserError) as info:
        read_results_jsonl(f, num_players=2)
    assert message in str(info.value)


def test_missing_file(tmp_path):
    with pytest.raises(UserError, match="does not exist"):
        read_results_jsonl(tmp_path / "none.jsonl")
