"""The flag-value parsers (text -> the value a config field holds): syntax only, errors naming
the flag. Range checks are the configs' own (tests/cli/test_config_defaults.py)."""

from __future__ import annotations

import pytest

from ringrift.cli._flag_values import parse_opponents, parse_sprt_bounds, parse_thresholds
from ringrift.errors import ConfigError, UserError


def test_parse_thresholds():
    assert parse_thresholds("random=0.9, heuristic=.5") == {"random": 0.9, "heuristic": 0.5}
    assert parse_thresholds(None) == {}
    assert parse_thresholds("heuristic=none,random=0.8") == {"heuristic": None, "random": 0.8}
    # a value out of range parses: the gauntlet's config refuses it, naming its field
    assert parse_thresholds("random=1.5") == {"random": 1.5}
    for bad in ("random", "random=x", "=0.5", "=none", ""):
        with pytest.raises(UserError, match="^--thresholds expects NAME=RATE") as info:
            parse_thresholds(bad)
        assert not isinstance(info.value, ConfigError)
    for bad in ("random=0.5,random=0.6", "random=none,random=0.5"):
        with pytest.raises(UserError, match="^--thresholds: random given twice"):
            parse_thresholds(bad)


def test_parse_opponents():
    assert parse_opponents("random, previous") == ("random", "previous")
    assert parse_opponents("random,random") == ("random", "random")  # the config refuses it
    for bad in ("random,,heuristic", "", "random,"):
        with pytest.raises(UserError, match="^--opponents expects comma-separated names"):
            parse_opponents(bad)
    with pytest.raises(UserError, match="^--eval-opponents expects"):
        parse_opponents("a,,b", "--eval-opponents")


def test_parse_sprt_bounds():
    assert parse_sprt_bounds("0,35") == (0.0, 35.0)
    assert parse_sprt_bounds("-5, 10.5") == (-5.0, 10.5)
    assert parse_sprt_bounds(None) is None
    assert parse_sprt_bounds("10,5") == (10.0, 5.0)  # parses; the config refuses elo1 <= elo0
    for bad in ("35", "a,b", "0,35,70", ","):
        with pytest.raises(UserError, match="^--sprt expects 'elo0,elo1'"):
            parse_sprt_bounds(bad)
