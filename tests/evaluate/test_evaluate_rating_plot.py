import math

from ringrift.evaluate.elo import Rating
from ringrift.evaluate.rating_plot import plot_ratings, version_key


def test_version_key_is_natural():
    names = ["m_v10", "m_v2", "m_v1", "random"]
    assert sorted(names, key=version_key) == ["m_v1", "m_v2", "m_v10", "random"]


def test_writes_png_and_leaves_no_temporary(tmp_path):
    ratings = [Rating("m_v2", 150.0, 100.0, 200.0, 10, 6.0),
               Rating("m_v1", 50.0, 0.0, 100.0, 10, 4.0),
               Rating("random", 0.0, 0.0, 0.0, 20, 3.0),
               Rating("lost", math.nan, -math.inf, math.inf, 1, 1.0, connected=False)]
    out = plot_ratings(ratings, tmp_path / "sub" / "elo.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in (tmp_path / "sub").iterdir()] == ["elo.png"]
