"""The board page end to end in headless Chromium (Debian's `chromium`, driven by Playwright).

A person's play is simulated by clicks only: the cells of a legal move in order, then the
choice button when several moves share those cells (placement counts, line options) or the
move has no cell (skips). Skipped with the reason when the browser or Playwright is missing.
"""

from __future__ import annotations

import os
import random
import shutil
import subprocess
import sys

import pytest

from ringrift import rules
from tests.serve.helpers import stored_game_db
from tests.serve.server import running_server

CHROMIUM = os.environ.get("RINGRIFT_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api",
                                   reason="playwright is not installed (pip install playwright)")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install -y chromium)")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("board")
    db = folder / "games.db"
    game_id = stored_game_db(db, "hex8", seed=3)
    with running_server("--games-db", str(db)) as url:
        yield url, game_id


def drawn_pixels(page) -> int:
    """Pixels of the board's screenshot that differ from its background colour."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(page.locator("#board").screenshot()))
                        .convert("RGB"))
    return int((pixels != pixels[2, 2]).any(axis=2).sum())


def wait_ready(page) -> str:
    page.wait_for_function("() => { const s = document.getElementById('status');"
                           " return ['human', 'over', 'error'].includes(s.dataset.state); }",
                           timeout=60000)
    return page.get_attribute("#status", "data-state")


def play_by_clicking(page, board_type: str, seed: int, max_turns: int = 1500) -> dict:
    rng = random.Random(seed)
    page.select_option("#board-type", board_type)
    page.select_option("#engine", "random")
    page.click("#new-game")
    turns = 0
    while True:
        state = wait_ready(page)
        assert state != "error", page.text_content("#status")
        if state == "over":
            break
        legal = page.evaluate("() => window.ringrift.view.legal")
        assert len(legal) > 1  # single moves are applied by the server
        choice = rng.choice(legal)
        for key in choice["cells"]:
            page.click(f'#board .cell[data-key="{key}"]')
        cells = choice["cells"]
        sharing = [m for m in legal if m["cells"][:len(cells)] == cells]
        if not cells or len(sharing) > 1:  # the clicks leave a choice: its button
            page.click(f'#choices button.choice[data-i="{choice["i"]}"]')
        turns += 1
        assert turns < max_turns
    view = page.evaluate("() => window.ringrift.view")
    view["turns"] = turns
    return view


@pytest.mark.parametrize("board_type", ["square8", "hex8"])
def test_play_a_full_game_by_clicking(browser, server, board_type):
    url, _ = server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    view = play_by_clicking(page, board_type, seed=1)
    assert view["gameOver"] and view["winner"] in (1, 2) and view["turns"] >= 10
    assert page.locator("#log div", has_text="(you)").count() == view["turns"]
    assert page.locator("#log div", has_text="(random)").count() >= 5  # the AI played too
    assert "Game over" in page.text_content("#status")
    cells = page.locator("#board .cell").count()
    assert cells == rules.get_geometry(board_type).num_cells
    assert page.locator("#board .stack").count() + page.locator("#board .collapsed").count() > 0
    assert drawn_pixels(page) > 1000
    assert not errors, errors
    page.close()


def test_every_board_is_drawn(browser, server):
    url, _ = server
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(url)
    page.select_option("#engine", "random")
    for board_type in rules.BOARD_TYPES:
        page.select_option("#board-type", board_type)
        page.click("#new-game")
        page.wait_for_function(f"() => document.getElementById('board').dataset.board === "
                               f"'{board_type}' && window.ringrift.busy === false")
        assert page.locator("#board .cell").count() == rules.get_geometry(board_type).num_cells
        assert page.locator("#choices").count() == 1
        assert drawn_pixels(page) > 5000
        # a placement: click a cell, then one of its placement counts
        first = page.evaluate("() => window.ringrift.view.legal[0]")
        page.click(f'#board .cell[data-key="{first["cells"][0]}"]')
        buttons = page.locator("#choices button.choice")
        assert buttons.count() >= 1
        buttons.first.click()
        page.wait_for_function("() => window.ringrift.view.currentPlayer === 1 && "
                               "!window.ringrift.busy", timeout=60000)
        assert page.locator("#board .stack").count() >= 1
    page.close()


def test_replay_a_stored_game_from_the_server(browser, server):
    url, game_id = server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(url)
    page.click(f'#games button.game[data-id="{game_id}"]')
    page.wait_for_selector("#replay-panel:not([style*='none'])")
    total = page.evaluate("() => window.ringrift.replay.frames.length")
    assert page.locator("#board .cell").count() == rules.get_geometry("hex8").num_cells
    assert page.locator("#board .stack").count() == 0  # the start
    for _ in range(6):
        page.click("#next")
    assert page.evaluate("() => window.ringrift.frame") == 6
    assert page.locator("#board .stack").count() >= 1
    assert page.locator("#graph polyline.value-line").count() == 2
    page.click("#last")
    assert page.evaluate("() => window.ringrift.frame") == total - 1
    assert "Game over" in page.text_content("#status")
    page.close()


def test_view_writes_a_self_contained_replay(browser, tmp_path):
    db = tmp_path / "games.db"
    game_id = stored_game_db(db, "square8", seed=4)
    out = tmp_path / "replay.html"
    proc = subprocess.run([sys.executable, "-m", "ringrift", "view", "--db", str(db), "--game",
                           game_id, "-o", str(out)], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "values: stored" in proc.stdout
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.url))
    page.goto(out.as_uri())
    page.wait_for_selector("#board .cell")
    assert page.locator("#board .cell").count() == 64
    page.click("#last")
    assert page.locator("#board .stack").count() + page.locator("#board .collapsed").count() > 0
    assert page.locator("#graph polyline.value-line").count() == 2
    assert drawn_pixels(page) > 1000
    assert requests == [out.as_uri()]  # nothing fetched: the page is self-contained
    missing = subprocess.run([sys.executable, "-m", "ringrift", "view", "--db", str(db),
                              "--game", "nope", "-o", str(tmp_path / "x.html")],
                             capture_output=True, text=True, timeout=120)
    assert missing.returncode == 2 and "no game 'nope'" in missing.stderr
    assert not (tmp_path / "x.html").exists()
    page.close()


def decision_positions(kinds: tuple[str, ...], seed: int = 0) -> dict[str, tuple]:
    """For each move type in `kinds`: (state, one such legal move) from seeded random games
    (a real decision: two or more legal moves)."""
    found: dict[str, tuple] = {}
    for board_type in ("square8", "hex8"):
        for game in range(60):
            rng = random.Random(seed * 1000 + game)
            state = rules.new_game(board_type, 2)
            while not state.is_over and len(found) < len(kinds):
                legal = rules.legal_moves(state)
                for move in legal:
                    kind = move.type
                    if move.type == "place_ring" and move.count > 1:
                        kind = "place_ring_count"
                    if kind in kinds and kind not in found and len(legal) > 1:
                        found[kind] = (state.copy(), move)
                rules.apply_move(state, rng.choice(legal))
            if len(found) == len(kinds):
                return found
    return found


DECISIONS = ("place_ring_count", "overtaking_capture", "continue_capture_segment",
             "process_line", "choose_line_option", "choose_territory_option",
             "eliminate_rings_from_stack", "skip_capture")


def test_every_kind_of_decision_can_be_made_by_clicking(browser, server):
    import json

    from ringrift.serve.board import view

    url, _ = server
    found = decision_positions(DECISIONS)
    assert set(found) == set(DECISIONS), sorted(found)  # seeded: all are found
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(url)
    page.select_option("#engine", "random")
    for kind, (state, move) in found.items():
        page.select_option("#human-seat", str(state.current_player))
        page.click("#load summary")
        page.fill("#state-json", json.dumps(rules.state_to_json(state)))
        page.click("#load-state")
        assert wait_ready(page) == "human", (kind, page.text_content("#status"))
        legal = page.evaluate("() => window.ringrift.view.legal")
        [entry] = [m for m in view(state)["legal"] if
                   rules.move_from_json(state.geo, m["move"], state.phase) == move]
        assert entry in legal
        for key in entry["cells"]:
            page.click(f'#board .cell[data-key="{key}"]')
        cells = entry["cells"]
        if not cells or len([m for m in legal if m["cells"][:len(cells)] == cells]) > 1:
            page.click(f'#choices button.choice[data-i="{entry["i"]}"]')
        wait_ready(page)
        played = page.locator("#log div", has_text=f"(you): {entry['label']}")
        assert played.count() == 1, (kind, entry["label"])
        page.click("#load summary")  # fold it again
        page.evaluate("() => { document.getElementById('log').textContent = ''; }")
    assert not errors, errors
    page.close()


def test_three_players_with_the_person_in_seat_two(browser, server):
    url, _ = server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(url)
    page.select_option("#board-type", "hex8")
    page.select_option("#num-players", "3")
    page.select_option("#human-seat", "2")
    page.select_option("#engine", "heuristic")
    page.click("#new-game")
    assert wait_ready(page) == "human"
    view = page.evaluate("() => window.ringrift.view")
    assert view["numPlayers"] == 3 and view["currentPlayer"] == 2
    assert page.locator("#log div", has_text="P1 (heuristic)").count() >= 1  # the AI went first
    assert page.locator("#players div").count() == 3
    assert page.locator("#board .stack").count() >= 1
    page.close()


def test_an_ai_error_is_shown_and_another_engine_takes_over(browser, server):
    url, _ = server  # this server has no model: policy-only cannot play
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(url)
    page.wait_for_function("() => document.querySelectorAll('#engine option').length >= 5")
    page.select_option("#engine", "policy-only")
    page.select_option("#human-seat", "2")
    page.click("#new-game")
    assert wait_ready(page) == "error"
    assert "needs a model" in page.text_content("#status")
    page.select_option("#engine", "random")
    assert wait_ready(page) == "human"
    assert page.evaluate("() => window.ringrift.view.currentPlayer") == 2
    page.close()


def test_analyse_lists_the_engines_top_moves(browser, server):
    url, _ = server
    page = browser.new_page(viewport={"width": 1200, "height": 900})
    page.goto(url)
    page.select_option("#engine", "mcts")
    page.fill("#visits", "24")
    page.select_option("#human-seat", "1")
    page.click("#new-game")
    assert wait_ready(page) == "human"
    page.click("#analyze")
    page.wait_for_selector("#analysis .analysis-value", timeout=60000)
    items = page.locator("#analysis li.analysis-move")
    assert items.count() >= 1
    assert "visits" in items.first.text_content()
    assert "(heuristic, 25 visits)" in page.text_content("#analysis .analysis-value")
    page.close()
