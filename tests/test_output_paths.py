"""ringrift.output_paths: what an output path check accepts and refuses."""

from __future__ import annotations

import pytest

from ringrift.errors import UserError
from ringrift.output_paths import check_output_dir, check_output_file


def test_output_file_checks(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert check_output_file(tmp_path / "new" / "deeper" / "x.npz", "--output").name == "x.npz"
    assert check_output_file(tmp_path / "afile", "--output") == tmp_path / "afile"  # replaced
    with pytest.raises(UserError, match="--output .*: is a folder"):
        check_output_file(tmp_path, "--output")
    with pytest.raises(UserError, match="afile is a file, not a folder"):
        check_output_file(tmp_path / "afile" / "sub" / "x.npz", "--output")
    with pytest.raises(UserError, match="is a folder"):
        check_output_file("", "--output")


def test_output_dir_checks(tmp_path):
    (tmp_path / "afile").write_text("x")
    assert check_output_dir(tmp_path, "--output-dir") == tmp_path
    assert check_output_dir(tmp_path / "a" / "b", "--output-dir") == tmp_path / "a" / "b"
    assert not (tmp_path / "a").exists()  # checking creates nothing
    with pytest.raises(UserError, match="is a file, not a folder"):
        check_output_dir(tmp_path / "afile", "--output-dir")
    with pytest.raises(UserError, match="afile is a file"):
        check_output_dir(tmp_path / "afile" / "x", "--run-dir")
