"""The flag-value parsers (text -> the value a config field holds): syntax only, errors naming
the flag. Range checks are the configs' own (tests/cli/test_config_defaults.py)."""

from __future__ import annotations

import pytest

from ringrift.cli._flag_values import (
    comma_joined,
    parse_counts,
    parse_names,
    parse_sprt_bounds,
    parse_thresholds,
)
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


def test_parse_names():
    assert parse_names("random, previous", "--opponents") == ("random", "previous")
    # the config refuses it
    assert parse_names("random,random", "--opponents") == ("random", "random")
    for bad in ("random,,heuristic", "", "random,"):
        with pytest.raises(UserError, match="^--opponents expects comma-separated names"):
            parse_names(bad, "--opponents")
    with pytest.raises(UserError, match="^--eval-opponents expects"):
        parse_names("a,,b", "--eval-opponents")


def test_parse_counts_and_comma_joined():
    assert parse_counts("1,2", "--workers") == (1, 2)
    assert parse_counts(comma_joined((4, 8)), "--workers") == (4, 8)
    for bad in ("1,,2", "", "1,x"):
        with pytest.raises(UserError, match="^--workers expects comma-separated counts"):
            parse_counts(bad, "--workers")


def test_parse_sprt_bounds():
    assert parse_sprt_bounds("0,35") == (0.0, 35.0)
    assert parse_sprt_bounds("-5, 10.5") == (-5.0, 10.5)
    assert parse_sprt_bounds(None) is None
    assert parse_sprt_bounds("10,5") == (10.0, 5.0)  # parses; the config refuses elo1 <= elo0
    for bad in ("35", "a,b", "0,35,70", ","):
        with pytest.raises(UserError, match="^--sprt expects 'elo0,elo1'"):
            parse_sprt_bounds(bad)
