"""`ringrift bench serve`: a short real load test (a server subprocess, clients in this one)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from ringrift.errors import UserError
from ringrift.rules.spec import GameSpec
from ringrift.serve.loadtest import parse_engines, sample_positions
from tests.serve.helpers import tiny_model


def test_parse_engines_and_positions():
    assert parse_engines("policy-only, gumbel:64") == [("policy-only", None), ("gumbel", 64)]
    with pytest.raises(UserError, match="unknown engine"):
        parse_engines("alphabeta")
    with pytest.raises(UserError, match="positive integer"):
        parse_engines("gumbel:0")
    positions = sample_positions(GameSpec("hex8", 3), 5, seed=2)
    assert len(positions) == 5 and all(p["board"]["type"] == "hex8" for p in positions)
    assert positions == sample_positions(GameSpec("hex8", 3), 5, seed=2)


@pytest.mark.slow
def test_bench_serve_reports_figures_without_errors(tmp_path):
    model = tiny_model(tmp_path)
    proc = subprocess.run([sys.executable, "-m", "ringrift", "bench", "serve", "--model",
                           str(model), "--clients", "4", "--duration", "1", "--positions", "8",
                           "--engines", "policy-only,gumbel:4", "--json"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    assert [r["engine"] for r in out["results"]] == ["policy-only", "gumbel 4"]
    for r in out["results"]:
        assert r["requests"] > 0 and r["errors"] == 0
        assert r["p50_ms"] <= r["p99_ms"]
        assert r["network_calls"] > 0 and r["mean_batch"] >= 1.0
