import json
import sys
import types

import pytest

from ringrift.cli.main import main
from ringrift.registry import ModelRegistry
from tests.registry.registry_helpers import make_model

FLAGS = ["--board-type", "square8", "--num-players", "2", "--architecture", "resnet-s",
         "--encoder-version", "3"]


@pytest.fixture
def reg(tmp_path):
    return str(tmp_path / "models" / "registry.db")


def run(capsys, *argv):
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_register_list_show_promote_archive(tmp_path, reg, capsys):
    a = make_model(tmp_path, "a.pt")
    code, out, _ = run(capsys, "models", "register", str(a), "--name", "sq8", "--registry", reg,
                       *FLAGS, "--metrics", '{"loss": 0.5}')
    assert code == 0 and out.startswith("registered: id 1, sq8 version 1")
    code, out, _ = run(capsys, "models", "register", str(a), "--name", "sq8", "--registry", reg)
    assert code == 0 and out.startswith("already registered: id 1")
    b = make_model(tmp_path, "b.pt", metadata={"architecture": "resnet-m", "board_type":
                                              "square8", "num_players": 2,
                                              "encoder_version": 3})
    code, out, _ = run(capsys, "models", "register", str(b), "--name", "sq8", "--registry", reg,
                       "--parent", "1")
    assert code == 0 and "id 2, sq8 version 2 (square8 2p, resnet-m" in out

    code, out, _ = run(capsys, "models", "list", "--registry", reg)
    lines = out.splitlines()
    assert lines[0].split()[:4] == ["ID", "NAME", "VER", "STAGE"]
    assert [line.split()[:4] for line in lines[1:]] == [["1", "sq8", "1", "development"],
                                                         ["2", "sq8", "2", "development"]]

    for model_id in ("1", "2"):
        assert run(capsys, "models", "promote", model_id, "--to", "staging",
                   "--registry", reg)[0] == 0
        code, out, _ = run(capsys, "models", "promote", model_id, "--to", "production",
                           "--reason", "gate passed", "--evidence", '{"llr": 3.0}',
                           "--registry", reg)
        assert code == 0 and f"model {model_id} (sq8 v{model_id}) is now production" in out
    assert "model 1 (sq8 v1) archived: superseded" in out

    code, out, _ = run(capsys, "models", "list", "--registry", reg, "--stage", "production",
                       "--json")
    data = json.loads(out)
    assert [m["id"] for m in data["models"]] == [2]
    assert data["models"][0]["parent_id"] == 1

    code, out, _ = run(capsys, "models", "show", "1", "--registry", reg, "--json")
    shown = json.loads(out)
    assert shown["stage"] == "archived" and shown["metrics"] == {"loss": 0.5}
    assert [t["to_stage"] for t in shown["transitions"]] == [
        "development", "staging", "production", "archived"]
    assert shown["transitions"][-1]["reason"] == "superseded by 2"
    assert shown["transitions"][2]["evidence"] == {"llr": 3.0}

    code, out, _ = run(capsys, "models", "show", "2", "--registry", reg)
    assert code == 0 and "stage" in out and "transitions:" in out and "gate passed" in out

    code, out, _ = run(capsys, "models", "archive", "2", "--reason", "retired",
                       "--registry", reg)
    assert code == 0 and "is now archived" in out
    code, out, _ = run(capsys, "models", "list", "--registry", reg, "--stage", "production")
    assert out.strip() == "no models"


def test_list_filters(tmp_path, reg, capsys):
    run(capsys, "models", "register", str(make_model(tmp_path, "a.pt")), "--name", "sq8",
        "--registry", reg, *FLAGS)
    run(capsys, "models", "register", str(make_model(tmp_path, "b.pt")), "--name", "hex",
        "--registry", reg, "--board-type", "hex8", "--num-players", "4", "--architecture", "x",
        "--encoder-version", "1")
    code, out, _ = run(capsys, "models", "list", "--registry", reg, "--board-type", "hex8",
                       "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)["models"]] == ["hex"]
    code, out, _ = run(capsys, "models", "list", "--registry", reg, "--num-players", "2",
                       "--json")
    assert code == 0 and [m["name"] for m in json.loads(out)["models"]] == ["sq8"]


def one_line_error(code, err, message):
    assert code == 2, err
    assert err.count("\n") == 1 and err.startswith("ringrift models: error: ")
    assert message in err


def test_user_errors(tmp_path, reg, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("hello\n")
    one_line_error(*run(capsys, "models", "list", "--registry", str(text))[::2],
                   "not a SQLite database")
    assert text.read_text() == "hello\n"
    one_line_error(*run(capsys, "models", "list", "--registry", reg)[::2], "no model registry")
    assert not (tmp_path / "models").exists()  # reading never creates a registry

    a = make_model(tmp_path, "a.pt")
    one_line_error(*run(capsys, "models", "register", str(a), "--name", "sq8",
                        "--registry", reg)[::2], "--board-type is not known")
    one_line_error(*run(capsys, "models", "register", str(a), "--name", "sq8", "--registry",
                        reg, *FLAGS, "--metrics", "[1]")[::2], "--metrics must be a JSON object")
    one_line_error(*run(capsys, "models", "register", str(a), "--name", "sq8", "--registry",
                        reg, *FLAGS, "--metrics", "{")[::2], "--metrics is not valid JSON")
    assert run(capsys, "models", "register", str(a), "--name", "sq8", "--registry", reg,
               *FLAGS)[0] == 0
    with ModelRegistry(reg) as registry:
        before = list(registry._conn.iterdump())
    one_line_error(*run(capsys, "models", "promote", "1", "--to", "production",
                        "--registry", reg)[::2], "cannot move to production")
    one_line_error(*run(capsys, "models", "show", "9", "--registry", reg)[::2],
                   "no model with id 9")
    one_line_error(*run(capsys, "models", "archive", "9", "--registry", reg)[::2],
                   "no model with id 9")
    one_line_error(*run(capsys, "models", "promote", "1", "--to", "staging", "--evidence", "x",
                        "--registry", reg)[::2], "--evidence is not valid JSON")
    with ModelRegistry(reg) as registry:
        assert list(registry._conn.iterdump()) == before
        entry = registry.get(1)
    entry.path.write_bytes(b"tampered")
    with ModelRegistry(reg) as registry, pytest.raises(Exception, match="does not match"):
        registry.verify(entry)


def test_describe_hook(monkeypatch, capsys):
    fake = types.ModuleType("ringrift.cli.models_describe")

    def add_describe(actions):
        p = actions.add_parser("describe")
        p.add_argument("file")
        p.set_defaults(func=lambda args: print(f"described {args.file}") or 0)

    fake.add_describe = add_describe
    monkeypatch.setitem(sys.modules, "ringrift.cli.models_describe", fake)
    assert main(["models", "describe", "x.pt"]) == 0
    assert capsys.readouterr().out == "described x.pt\n"

