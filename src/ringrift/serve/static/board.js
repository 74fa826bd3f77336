// The RingRift board page: draws a board view sent by `ringrift serve` (or a replay embedded
// by `ringrift view`), lets a person pick among the server's legal moves by clicking cells, asks
// the server for the AI's moves, and replays stored games with their evaluation graph.
// The server owns the rules: this page never decides what is legal.
(function () {
  "use strict";
  var COLORS = ["#d1343b", "#2f62c9", "#23913a", "#c98a00"];
  var SVGNS = "http://www.w3.org/2000/svg";
  var SQRT3 = Math.sqrt(3);

  var app = {
    view: null,        // the current board view (play mode)
    selected: [],      // cells clicked so far for the human's move
    busy: false,       // waiting for the server
    human: 1,          // the seat the person plays
    replay: null,      // replay data (replay mode)
    frame: 0,
    evalHistory: [],   // play mode: the AI's value per seat after each of its moves
    error: ""
  };
  window.ringrift = app;  // for tests and the curious

  function el(tag, attrs, parent, text) {
    var node = document.createElement(tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (text !== undefined) node.textContent = text;
    if (parent) parent.appendChild(node);
    return node;
  }

  function svg(tag, attrs, parent) {
    var node = document.createElementNS(SVGNS, tag);
    for (var k in attrs || {}) node.setAttribute(k, attrs[k]);
    if (parent) parent.appendChild(node);
    return node;
  }

  function post(path, body) {
    return fetch(path, {method: "POST", headers: {"Content-Type": "application/json"},
                        body: JSON.stringify(body)}).then(function (r) {
      return r.json().then(function (data) {
        if (!r.ok) throw new Error(data.error || data.detail || ("HTTP " + r.status));
        return data;
      });
    });
  }

  // ---------------------------------------------------------------- drawing

  function cellShape(shape, c, parent) {
    if (shape === "hex") {
      var pts = [];
      for (var i = 0; i < 6; i++) {
        var a = Math.PI / 180 * (60 * i - 30);
        pts.push((c.x + 0.97 * Math.cos(a)).toFixed(3) + "," + (c.y + 0.97 * Math.sin(a)).toFixed(3));
      }
      return svg("polygon", {points: pts.join(" "), "class": "cell", "data-key": c.key}, parent);
    }
    return svg("rect", {x: c.x - 0.48, y: c.y - 0.48, width: 0.96, height: 0.96,
                        "class": "cell", "data-key": c.key}, parent);
  }

  // Draw cells, collapsed spaces, markers and stacks of `pos` (a view or a replay frame).
  function drawBoard(layout, pos, marks) {
    var board = document.getElementById("board");
    while (board.firstChild) board.removeChild(board.firstChild);
    var xs = layout.cells.map(function (c) { return c.x; });
    var ys = layout.cells.map(function (c) { return c.y; });
    var pad = layout.shape === "hex" ? 1.1 : 0.6;
    var minX = Math.min.apply(null, xs) - pad, minY = Math.min.apply(null, ys) - pad;
    var w = Math.max.apply(null, xs) - minX + pad, h = Math.max.apply(null, ys) - minY + pad;
    board.setAttribute("viewBox", minX + " " + minY + " " + w + " " + h);
    var size = Math.min(640, Math.max(360, layout.cells.length > 200 ? 720 : 520));
    board.setAttribute("width", size);
    board.setAttribute("height", Math.round(size * h / w));
    board.setAttribute("data-board", layout.boardType || "");
    var centre = {};
    layout.cells.forEach(function (c) {
      centre[c.key] = c;
      var node = cellShape(layout.shape, c, board);
      var owner = pos.collapsed[c.key];
      if (owner) {
        node.setAttribute("style", "fill:" + COLORS[owner - 1] + ";fill-opacity:0.45");
        node.classList.add("collapsed");
      }
      if (marks && marks[c.key]) marks[c.key].forEach(function (m) { node.classList.add(m); });
      node.addEventListener("click", function () { onCell(c.key); });
    });
    Object.keys(pos.markers).forEach(function (key) {
      var c = centre[key];
      if (!c) return;
      svg("circle", {cx: c.x, cy: c.y, r: 0.3, fill: "none", stroke: COLORS[pos.markers[key] - 1],
                     "stroke-width": 0.12, "class": "marker", "data-key": key}, board);
    });
    Object.keys(pos.stacks).forEach(function (key) {
      var c = centre[key], rings = pos.stacks[key];
      if (!c) return;
      var top = rings[0], cap = 0;
      while (cap < rings.length && rings[cap] === top) cap++;
      var g = svg("g", {"class": "stack", "data-key": key, "data-height": rings.length}, board);
      // the rings below the cap, as a ring of their colours
      if (rings.length > cap) {
        svg("circle", {cx: c.x, cy: c.y, r: 0.42, fill: COLORS[rings[cap] - 1]}, g);
      }
      svg("circle", {cx: c.x, cy: c.y, r: 0.34, fill: COLORS[top - 1], stroke: "#222",
                     "stroke-width": 0.03}, g);
      var t = svg("text", {x: c.x, y: c.y, "class": "stack-text"}, g);
      t.textContent = rings.length + (cap < rings.length ? "/" + cap : "");
    });
  }

  function drawPlayers(pos, numPlayers) {
    var box = document.getElementById("players");
    while (box.firstChild) box.removeChild(box.firstChild);
    (pos.players || []).forEach(function (p) {
      var row = el("div", {"data-player": p.playerNumber}, box);
      el("span", {"class": "swatch", style: "background:" + COLORS[p.playerNumber - 1]}, row);
      row.appendChild(document.createTextNode(
        "P" + p.playerNumber + (app.replay ? "" : (p.playerNumber === app.human ? " (you)" : " (AI)")) +
        ": " + p.ringsInHand + " in hand, " + p.eliminatedRings + " eliminated, " +
        p.territorySpaces + " territory" + (pos.currentPlayer === p.playerNumber && !pos.gameOver ? "  <- to move" : "")));
    });
  }

  // Value per seat over the game: one polyline per player, a cursor at `at`.
  function drawGraph(values, numPlayers, at) {
    var g = document.getElementById("graph");
    while (g.firstChild) g.removeChild(g.firstChild);
    var W = 400, H = 120;
    svg("line", {x1: 0, y1: H / 2, x2: W, y2: H / 2, stroke: "#bbb", "stroke-width": 1}, g);
    if (!values.length) return;
    var step = values.length > 1 ? W / (values.length - 1) : W;
    for (var p = 0; p < numPlayers; p++) {
      var pts = values.map(function (v, i) {
        return (i * step).toFixed(1) + "," + (H / 2 - (v[p] || 0) * (H / 2 - 4)).toFixed(1);
      });
      svg("polyline", {points: pts.join(" "), fill: "none", stroke: COLORS[p], "stroke-width": 1.5,
                       "class": "value-line", "data-player": p + 1}, g);
    }
    if (at !== undefined) {
      svg("line", {x1: at * step, y1: 0, x2: at * step, y2: H, stroke: "#555",
                   "stroke-dasharray": "3,3", "class": "cursor"}, g);
    }
  }

  function log(text) {
    var box = document.getElementById("log");
    el("div", {}, box, text);
    box.scrollTop = box.scrollHeight;
  }

  function setStatus(text, kind) {
    var s = document.getElementById("status");
    s.textContent = text;
    s.setAttribute("data-state", kind);
  }

  // ---------------------------------------------------------------- play mode

  function render() {
    var v = app.view;
    var marks = {};
    function mark(key, m) { (marks[key] = marks[key] || []).push(m); }
    var humanTurn = !v.gameOver && v.currentPlayer === app.human && !app.busy;
    if (humanTurn) {
      candidates().forEach(function (m) {
        var next = m.cells[app.selected.length];
        if (next !== undefined) mark(next, app.selected.length ? "to" : "from");
      });
      app.selected.forEach(function (k) { mark(k, "selected"); });
    }
    (v.applied || []).forEach(function (m) { if (m.to && m.to.x !== undefined) mark(keyOf(m.to), "last"); });
    drawBoard(v, v, marks);
    drawPlayers(v, v.numPlayers);
    drawGraph(app.evalHistory, v.numPlayers);
    renderChoices(humanTurn);
    if (v.gameOver) {
      setStatus("Game over: player " + v.winner + " wins (" + v.victoryReason + ")" +
                (v.winner === app.human ? " - you win" : ""), "over");
    } else if (app.busy && v.currentPlayer !== app.human) {
      setStatus("Player " + v.currentPlayer + " (AI) is thinking... [" + v.phase + "]", "ai");
    } else if (app.busy) {
      setStatus("Playing your move...", "busy");
    } else if (humanTurn) {
      setStatus("Your move, player " + v.currentPlayer + " [" + v.phase + "]", "human");
    } else {
      setStatus("Player " + v.currentPlayer + " to move [" + v.phase + "]", "ai");
    }
    if (app.error) setStatus(app.error, "error");
  }

  function keyOf(p) { return p.z !== undefined ? p.x + "," + p.y + "," + p.z : p.x + "," + p.y; }

  // Legal moves whose first clicks are the cells selected so far.
  function candidates(prefix) {
    prefix = prefix || app.selected;
    return app.view.legal.filter(function (m) {
      if (m.cells.length < prefix.length) return false;
      for (var i = 0; i < prefix.length; i++) if (m.cells[i] !== prefix[i]) return false;
      return prefix.length > 0 || m.cells.length > 0;
    });
  }

  function renderChoices(humanTurn) {
    var box = document.getElementById("choices");
    while (box.firstChild) box.removeChild(box.firstChild);
    if (!humanTurn) return;
    var shown = app.view.legal.filter(function (m) { return m.cells.length === 0; });
    if (app.selected.length) {
      shown = shown.concat(candidates().filter(function (m) {
        return m.cells.length === app.selected.length;
      }));
    }
    shown.forEach(function (m) {
      var b = el("button", {"class": "choice", "data-i": m.i, "data-type": m.move.type}, box, m.label);
      b.addEventListener("click", function () { play(m); });
    });
    if (app.selected.length) {
      var c = el("button", {"class": "cancel"}, box, "cancel selection");
      c.addEventListener("click", function () { app.selected = []; render(); });
    }
  }

  function onCell(key) {
    if (app.replay || !app.view || app.busy || app.view.gameOver) return;
    if (app.view.currentPlayer !== app.human) return;
    var prefix = app.selected.concat([key]);
    var found = candidates(prefix);
    if (!found.length) {  // start over from this cell
      prefix = [key];
      found = candidates(prefix);
      if (!found.length) { app.selected = []; render(); return; }
    }
    app.selected = prefix;
    var complete = found.filter(function (m) { return m.cells.length === prefix.length; });
    if (found.length === 1 && complete.length === 1) { play(complete[0]); return; }
    render();  // more clicks, or a choice among moves with the same cells
  }

  function play(choice) {
    app.selected = [];
    app.error = "";
    app.busy = true;
    render();
    log("P" + app.view.currentPlayer + " (you): " + choice.label);
    post("/v1/game/apply", {state: app.view.state, move: choice.move}).then(function (v) {
      app.busy = false;
      show(v);
    }).catch(fail);
  }

  function show(v) {
    app.view = v;
    app.error = "";
    var box = document.getElementById("analysis");
    while (box && box.firstChild) box.removeChild(box.firstChild);
    render();
    if (!v.gameOver && v.currentPlayer !== app.human) aiMove();
  }

  function aiMove() {
    app.error = "";
    app.busy = true;
    render();
    var engine = document.getElementById("engine").value;
    var visits = document.getElementById("visits").value || "64";
    var body = {state: app.view.state, engine: engine,
                maxVisits: /^[0-9]+$/.test(visits) ? parseInt(visits, 10) : visits};
    post("/v1/move", body).then(function (r) {
      var label = app.view.legal.filter(function (m) {
        return JSON.stringify(m.move) === JSON.stringify(r.move);
      }).map(function (m) { return m.label; })[0] || r.move.type;
      log("P" + app.view.currentPlayer + " (" + r.engine + "): " + label + "  value " +
          r.value.map(function (x) { return x.toFixed(2); }).join("/"));
      app.evalHistory.push(r.value);
      return post("/v1/game/apply", {state: app.view.state, move: r.move});
    }).then(function (v) {
      app.busy = false;
      show(v);
    }).catch(fail);
  }

  // The engine's view of the current position: its top moves with visits, prior and Q.
  function analyze() {
    var v = app.view;
    if (!v || v.gameOver || app.busy || app.replay) return;
    var box = document.getElementById("analysis");
    while (box.firstChild) box.removeChild(box.firstChild);
    var visits = document.getElementById("visits").value || "64";
    post("/v1/analyze", {state: v.state, engine: document.getElementById("engine").value,
                         maxVisits: /^[0-9]+$/.test(visits) ? parseInt(visits, 10) : visits})
      .then(function (r) {
        if (app.view !== v) return;  // the position changed meanwhile
        r.moveInfos.forEach(function (info) {
          var label = v.legal.filter(function (m) {
            return JSON.stringify(m.move) === JSON.stringify(info.move);
          }).map(function (m) { return m.label; })[0] || info.move.type;
          el("li", {"class": "analysis-move"}, box, label + ": " + info.visits + " visits, prior " +
             info.prior.toFixed(3) + (info.q === null ? "" : ", Q " + info.q.toFixed(3)));
        });
        el("div", {"class": "analysis-value"}, box, "value " +
           r.value.map(function (x) { return x.toFixed(2); }).join("/") + " (" + r.evaluator +
           ", " + r.rootInfo.visits + " visits)");
      }).catch(fail);
  }

  function fail(err) {
    app.busy = false;
    app.error = "Error: " + err.message;
    log(app.error);
    if (app.view) render();
  }

  function newGame() {
    app.replay = null;
    showPanel("play");
    app.human = parseInt(document.getElementById("human-seat").value, 10);
    var players = parseInt(document.getElementById("num-players").value, 10);
    if (app.human > players) app.human = 1;
    app.selected = [];
    app.evalHistory = [];
    document.getElementById("log").textContent = "";
    app.busy = true;
    setStatus("Starting a new game...", "busy");
    post("/v1/game/new", {boardType: document.getElementById("board-type").value,
                          numPlayers: players}).then(function (v) {
      app.busy = false;
      show(v);
    }).catch(fail);
  }

  // A position pasted as JSON: the server checks it and sends its view; you play the seat
  // chosen under "you play".
  function loadState() {
    var data;
    try { data = JSON.parse(document.getElementById("state-json").value); }
    catch (e) { fail(new Error("not JSON: " + e.message)); return; }
    app.replay = null;
    showPanel("play");
    app.human = parseInt(document.getElementById("human-seat").value, 10);
    app.selected = [];
    app.evalHistory = [];
    app.busy = true;
    setStatus("Loading the position...", "busy");
    post("/v1/game/legal", {state: data}).then(function (v) {
      app.busy = false;
      log("loaded a position: player " + v.currentPlayer + " to move [" + v.phase + "]");
      show(v);
    }).catch(fail);
  }

  // ---------------------------------------------------------------- replay mode

  function loadReplay(data) {
    app.replay = data;
    app.view = null;
    app.frame = 0;
    showPanel("replay");
    document.getElementById("replay-title").textContent =
      "Game " + data.gameId + ": " + data.boardType + " " + data.numPlayers + "p, " +
      data.engines.join(" vs ") + ", " + data.status +
      (data.winner ? ", winner P" + data.winner : "") + " (values: " + data.valueSource + ")";
    var slider = document.getElementById("frame-slider");
    slider.max = data.frames.length - 1;
    showFrame(0);
  }

  function showFrame(i) {
    var data = app.replay;
    i = Math.max(0, Math.min(data.frames.length - 1, i));
    app.frame = i;
    var f = data.frames[i];
    var marks = {};
    if (f.move && f.move.to && f.move.to.x !== undefined) marks[keyOf(f.move.to)] = ["last"];
    drawBoard(data, f, marks);
    drawPlayers(f, data.numPlayers);
    drawGraph(data.values, data.numPlayers, i);
    document.getElementById("frame-slider").value = i;
    document.getElementById("frame-label").textContent =
      "move " + i + " of " + (data.frames.length - 1) + ": " + f.label + "  value " +
      data.values[i].map(function (x) { return x.toFixed(2); }).join("/");
    setStatus(f.gameOver ? "Game over" : "Player " + f.currentPlayer + " to move [" + f.phase + "]",
              f.gameOver ? "over" : "replay");
  }

  function loadGameList() {
    fetch("/v1/games?limit=200").then(function (r) { return r.json(); }).then(function (d) {
      var box = document.getElementById("games");
      (d.games || []).forEach(function (g) {
        var b = el("button", {"class": "game", "data-id": g.gameId}, box,
                   g.gameId.slice(0, 12) + "  " + g.engines.join(" vs "));
        b.addEventListener("click", function () {
          fetch("/v1/games/" + encodeURIComponent(g.gameId) + "/replay").then(function (r) {
            return r.json();
          }).then(loadReplay).catch(fail);
        });
      });
    });
  }

  // ---------------------------------------------------------------- layout

  function showPanel(which) {
    document.getElementById("play-panel").style.display = which === "play" ? "" : "none";
    document.getElementById("replay-panel").style.display = which === "replay" ? "" : "none";
  }

  function select(parent, id, options, value) {
    var s = el("select", {id: id}, parent);
    options.forEach(function (o) {
      var opt = el("option", {value: o}, s, o);
      if (String(o) === String(value)) opt.selected = true;
    });
    return s;
  }

  function build() {
    var root = document.getElementById("app");
    var left = el("div", {id: "left"}, root);
    var right = el("div", {id: "right"}, root);
    var controls = el("div", {"class": "controls", id: "controls"}, left);
    if (!window.RINGRIFT_REPLAY) {
      el("label", {}, controls, "board");
      select(controls, "board-type", ["square8", "square19", "hex8", "hexagonal"], "square8");
      el("label", {}, controls, "players");
      select(controls, "num-players", [2, 3, 4], 2);
      el("label", {}, controls, "you play");
      select(controls, "human-seat", [1, 2, 3, 4], 1);
      el("label", {}, controls, "AI");
      select(controls, "engine", ["gumbel", "mcts", "policy-only", "heuristic", "random"], "gumbel")
        .addEventListener("change", function () {
          // an AI move that failed (e.g. policy-only without a model) is retried with the new one
          var v = app.view;
          if (v && !app.replay && !app.busy && !v.gameOver && v.currentPlayer !== app.human) aiMove();
        });
      el("label", {}, controls, "budget");
      el("input", {id: "visits", value: "64", size: 8, title: "simulations or throughput/standard/quality/ultimate"}, controls);
      el("button", {id: "new-game"}, controls, "New game").addEventListener("click", newGame);
      el("button", {id: "analyze"}, controls, "Analyse").addEventListener("click", analyze);
    }
    svg("svg", {id: "board", xmlns: SVGNS}, left);
    el("div", {id: "status", "data-state": "idle"}, right, "Choose a board and press New game.");
    el("div", {id: "players"}, right);
    var play = el("div", {id: "play-panel"}, right);
    el("div", {id: "choices"}, play);
    el("ol", {id: "analysis"}, play);
    var replay = el("div", {id: "replay-panel", style: "display:none"}, right);
    el("div", {id: "replay-title"}, replay);
    var rc = el("div", {"class": "controls", id: "replay-controls"}, replay);
    [["first", "|<", function () { showFrame(0); }],
     ["prev", "<", function () { showFrame(app.frame - 1); }],
     ["next", ">", function () { showFrame(app.frame + 1); }],
     ["last", ">|", function () { showFrame(app.replay.frames.length - 1); }]].forEach(function (b) {
      el("button", {id: b[0]}, rc, b[1]).addEventListener("click", b[2]);
    });
    var slider = el("input", {id: "frame-slider", type: "range", min: 0, max: 0, value: 0}, rc);
    slider.addEventListener("input", function () { showFrame(parseInt(slider.value, 10)); });
    el("div", {id: "frame-label"}, replay);
    el("div", {}, right, "Evaluation (value per player, -1..1)");
    svg("svg", {id: "graph", width: 400, height: 120, viewBox: "0 0 400 120"}, right);
    el("div", {id: "log"}, right);
    if (window.RINGRIFT_REPLAY) {
      loadReplay(window.RINGRIFT_REPLAY);
      document.addEventListener("keydown", function (e) {
        if (e.key === "ArrowRight") showFrame(app.frame + 1);
        if (e.key === "ArrowLeft") showFrame(app.frame - 1);
      });
      return;
    }
    var load = el("details", {id: "load"}, right);
    el("summary", {}, load, "Load a position (RULES.md state JSON)");
    el("textarea", {id: "state-json", rows: 4, cols: 48}, load);
    el("button", {id: "load-state"}, load, "Load").addEventListener("click", loadState);
    el("div", {}, right, "Stored games (replay):");
    el("div", {id: "games"}, right);
    fetch("/v1/health").then(function (r) { return r.json(); }).then(function (h) {
      var engines = document.getElementById("engine"), current = engines.value;
      while (engines.firstChild) engines.removeChild(engines.firstChild);
      h.engines.forEach(function (name) {  // the server's list: it knows its engine table
        var opt = el("option", {value: name}, engines, name);
        if (name === current) opt.selected = true;
      });
      if (h.gamesDb) loadGameList();
      log("server model: " + h.model.name);
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", build);
  else build();
})();
