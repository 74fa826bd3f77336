"""ringrift.output_paths: what an output path check accepts and refuses."""

from __future__ import annotations

import pytest

from ringrift.errors import ConfigError, UserError
from ringrift.output_paths import check_output_dir, check_output_file


def test_output_file_checks(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert check_output_file(tmp_path / "new" / "deeper" / "x.npz", "output").name == "x.npz"
    assert check_output_file(tmp_path / "afile", "output") == tmp_path / "afile"  # replaced
    with pytest.raises(ConfigError, match="^output .*: is a folder") as info:
        check_output_file(tmp_path, "output")
    assert info.value.field == "output"  # (the CLI shows the flag that set the field)
    with pytest.raises(UserError, match="afile is a file, not a folder"):
        check_output_file(tmp_path / "afile" / "sub" / "x.npz", "output")
    with pytest.raises(UserError, match="is a folder"):
        check_output_file("", "output")


def test_output_dir_checks(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert check_output_dir(tmp_path, "output_dir") == tmp_path
    assert check_output_dir(tmp_path / "a" / "b", "output_dir") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # checking creates nothing
    with pytest.raises(UserError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "afile", "output_dir")
    with pytest.raises(UserError, match="afile is a file"):
        check_output_dir(tmp_path / "afile" / "x", "run_dir")
