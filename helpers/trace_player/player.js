/* The recorded clock's player: replays a run saved by helpers/trace.py, with no kernel and no
   network. Plain JavaScript + SVG; the data sits in a <script type="application/json"> inside
   each .llmclock-trace element, so a page can hold several players (a notebook page of the HTML
   edition).

   Panels, as in the clock widget: the text so far (newest token marked), the next-token
   distribution raw vs sampled-from (chosen token outlined), and the attention of the newest
   position over the context for one layer and head (or the mean over heads). */
(function () {
  "use strict";
  if (window.LLMClockTrace) { window.LLMClockTrace.mountAll(); return; }

  var SVG_NS = "http://www.w3.org/2000/svg";
  var PLAY_MS = 700;

  function el(tag, cls, parent, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (parent) parent.appendChild(node);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function svg(tag, attrs, parent, text) {
    var node = document.createElementNS(SVG_NS, tag);
    for (var name in attrs) node.setAttribute(name, attrs[name]);
    if (parent) parent.appendChild(node);
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function tooltip(node, text) { svg("title", {}, node, text); }

  // Every word and number comes formatted in the data (helpers/tick_view.py makes them for the
  // clock widget, this player and the tick table alike): percentages, the status line, the
  // candidates' labels, which positions an axis labels. The player only draws.

  // The attention weights: thousandths as 16-bit integers, high bytes then low bytes (they
  // compress better apart), deflated (zlib) and base64-encoded by trace.py.
  function decodeAttention(b64) {
    var bin = atob(b64), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    if (typeof DecompressionStream === "undefined") {
      return Promise.reject(new Error(
        "this browser is too old (no DecompressionStream): open the file " +
        "in a current Chrome, Edge, Firefox or Safari"));
    }
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("deflate"));
    return new Response(stream).arrayBuffer().then(function (buffer) {
      var split = new Uint8Array(buffer), n = split.length / 2, values = new Uint16Array(n);
      for (var j = 0; j < n; j++) values[j] = (split[j] << 8) | split[n + j];
      return values;
    });
  }

  function Player(root, data, attention) {
    this.root = root;
    this.d = data;
    this.att = attention;
    this.groups = {};
    for (var g = 0; g < data.groups.length; g++) this.groups[data.groups[g][0]] = data.groups[g];
    this.layer = data.layer;
    this.head = data.head === undefined ? -1 : data.head;  // -1: mean over heads
    // Presenter mode: larger text everywhere; the charts are drawn on a narrower canvas, so
    // the same font sizes come out about 1.3 times larger on screen.
    this.presenter = !!data.presenter;
    this.timer = null;
    this.build();
    this.show(data.start === "last" ? data.ticks.length - 1 : 0);
  }

  // The interface's words come with the data (helpers/messages/, the "player." texts).
  Player.prototype.t = function (key, values) {
    var text = (this.d.labels || {})[key];
    if (text === undefined) return key;
    for (var name in values || {}) text = text.split("{" + name + "}").join(String(values[name]));
    return text;
  };

  Player.prototype.build = function () {
    var self = this, d = this.d, root = this.root;
    el("div", "trace-title", root, d.title);
    el("div", "trace-meta", root, d.meta);
    var controls = el("div", "trace-controls", root);
    this.backButton = el("button", "trace-back", controls, this.t("player.back"));
    this.backButton.title = this.t("player.back_tip");
    this.playButton = el("button", "trace-play", controls, this.t("player.play"));
    this.playButton.title = this.t("player.play_tip");
    this.stepButton = el("button", "trace-step", controls, this.t("player.step"));
    this.stepButton.title = this.t("player.step_tip");
    this.presenterButton = el("button", "trace-presenter", controls, this.t("button.presenter"));
    this.presenterButton.title = this.t("player.presenter_tip");
    this.scrubber = el("input", "trace-scrubber", controls);
    this.scrubber.type = "range";
    this.scrubber.min = 0;
    this.scrubber.max = d.ticks.length - 1;
    this.scrubber.title = this.t("player.scrubber_tip");
    this.position = el("span", "trace-position", controls);
    this.status = el("div", "trace-status", root);
    this.settings = el("div", "trace-settings", root);
    this.text = el("div", "trace-text", root);
    var panels = el("div", "trace-panels", root);
    this.distPanel = el("div", "trace-panel trace-distribution", panels);
    var attPanel = el("div", "trace-panel trace-attention", panels);
    this.attSvgBox = el("div", "", attPanel);
    var attControls = el("div", "trace-attention-controls", attPanel);
    var layerLabel = el("label", "", attControls, this.t("player.layer"));
    this.layerInput = el("input", "trace-layer", layerLabel);
    this.layerInput.type = "range";
    this.layerInput.min = 0;
    this.layerInput.max = d.n_layers - 1;
    this.layerInput.value = this.layer;
    this.layerValue = el("span", "trace-layer-value", layerLabel, String(this.layer));
    var headLabel = el("label", "", attControls, this.t("player.head"));
    this.headSelect = el("select", "trace-head", headLabel);
    el("option", "", this.headSelect, this.t("head.all")).value = -1;
    for (var h = 0; h < d.n_heads; h++) {
      el("option", "", this.headSelect, this.t("head.one", {head: h})).value = h;
    }
    this.headSelect.value = String(this.head);
    el("div", "trace-keys", root, this.t("player.keys"));

    this.backButton.addEventListener("click", function () {
      self.pause(); self.show(self.shown - 1);
    });
    this.stepButton.addEventListener("click", function () {
      self.pause(); self.show(self.shown + 1);
    });
    this.playButton.addEventListener("click", function () { self.toggle(); });
    this.presenterButton.addEventListener("click", function () {
      self.setPresenter(!self.presenter);
    });
    this.setPresenter(this.presenter, true);
    this.scrubber.addEventListener("input", function () {
      self.pause(); self.show(+self.scrubber.value);
    });
    this.layerInput.addEventListener("input", function () {
      self.layer = +self.layerInput.value;
      self.layerValue.textContent = String(self.layer);
      self.drawAttention();
    });
    this.headSelect.addEventListener("change", function () {
      self.head = +self.headSelect.value;
      self.drawAttention();
    });
    root.addEventListener("keydown", function (event) {
      var tag = event.target.tagName;
      if (tag === "INPUT" || tag === "SELECT") return;  // arrows move the slider or the choice
      if (self.key(event.key)) event.preventDefault();
    });
  };

  Player.prototype.setPresenter = function (on, quiet) {
    this.presenter = on;
    this.root.classList.toggle("presenter", on);
    this.presenterButton.classList.toggle("on", on);
    this.presenterButton.setAttribute("aria-pressed", on ? "true" : "false");
    if (!quiet) this.show(this.shown);
  };

  Player.prototype.size = function () { return this.presenter ? 1 : 0; };  // index into the data

  Player.prototype.chartWidth = function () { return this.d.chart.width[this.size()]; };

  Player.prototype.key = function (key) {
    if (key === "ArrowRight") { this.pause(); this.show(this.shown + 1); }
    else if (key === "ArrowLeft") { this.pause(); this.show(this.shown - 1); }
    else if (key === "Home") { this.pause(); this.show(0); }
    else if (key === "End") { this.pause(); this.show(this.d.ticks.length - 1); }
    else if (key === " ") this.toggle();
    else return false;
    return true;
  };

  Player.prototype.toggle = function () { if (this.timer) this.pause(); else this.play(); };

  Player.prototype.play = function () {
    var self = this, last = this.d.ticks.length - 1;
    if (this.shown >= last) this.show(0);  // at the end, Play starts over
    this.playButton.textContent = this.t("player.pause");
    this.timer = setInterval(function () {
      self.show(self.shown + 1);
      if (self.shown >= last) self.pause();  // stop on the last tick
    }, PLAY_MS);
  };

  Player.prototype.pause = function () {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.playButton.textContent = this.t("player.play");
  };

  Player.prototype.show = function (index) {
    var ticks = this.d.ticks;
    index = Math.max(0, Math.min(ticks.length - 1, index));
    this.shown = index;
    var tick = ticks[index];
    this.scrubber.value = index;
    this.position.textContent = this.t("player.position", {i: index, n: ticks.length - 1});
    this.backButton.disabled = index === 0;
    this.stepButton.disabled = index === ticks.length - 1;
    this.status.textContent = tick.status;
    this.settings.textContent = tick.settings;
    this.drawText(this.d.n_prompt + index + 1);
    this.drawDistribution(tick);
    this.drawAttention();
  };

  // ------------------------------------------------------------------ the text so far
  Player.prototype.appendVisible = function (parent, text) {
    if (text === "") { el("span", "ws", parent, "\u2205"); return; }
    var run = "";
    for (var i = 0; i < text.length; i++) {
      var ch = text[i], glyph = this.d.glyphs[ch];
      if (!glyph) { run += ch; continue; }
      if (run) { parent.appendChild(document.createTextNode(run)); run = ""; }
      el("span", "ws", parent, glyph);  // faded, not grey: readable on every background
      if (ch === "\n") el("br", "", parent);
    }
    if (run) parent.appendChild(document.createTextNode(run));
  };

  Player.prototype.drawText = function (end) {
    var d = this.d, box = this.text;
    box.textContent = "";
    var legend = el("div", "trace-legend", box);
    el("span", "tok-prompt", legend, this.t("text.prompt"));
    legend.appendChild(document.createTextNode(" "));
    el("span", "tok-generated", legend, this.t("text.generated"));
    legend.appendChild(document.createTextNode(" "));
    el("span", "tok-new", legend, this.t("text.newest"));
    legend.appendChild(document.createTextNode(this.t("player.legend_rest")));
    var tokens = el("div", "trace-tokens", box);
    var pos = 0;
    while (pos < end) {
      // Byte tokens that together make a character are drawn as that character, once all of
      // them are in the text; until then each shows its bytes in hex.
      var group = this.groups[pos], count = 1, text = d.text[pos];
      if (group && pos + group[1] <= end) { count = group[1]; text = group[2]; }
      var last = pos + count - 1, isPrompt = pos < d.n_prompt;
      var newest = last === end - 1 && !isPrompt;
      var span = el("span", "tok " +
                    (newest ? "tok-new" : isPrompt ? "tok-prompt" : "tok-generated") +
                    (count > 1 ? " tok-group" : ""), tokens);
      var ids = d.ids.slice(pos, last + 1);
      var title = (count === 1 ? this.t("text.position", {pos: pos})
                   : this.t("text.positions", {first: pos, last: last})) +
                  (isPrompt ? this.t("text.prompt_mark") : "") +
                  this.t("player.id", {ids: ids.join(", ")});
      if (count > 1) title += this.t("text.one_character", {n: count});
      if (!isPrompt) {
        var probs = [];
        for (var p = pos; p <= last; p++) probs.push(d.ticks[p - d.n_prompt].p);
        title += this.t("player.p", {p: probs.join(", ")});
      }
      span.title = title;
      this.appendVisible(span, text);
      el("wbr", "", tokens);
      pos += count;
    }
    box.scrollTop = box.scrollHeight;  // keep the newest token in view
  };

  // ------------------------------------------------------------------ distribution
  Player.prototype.drawDistribution = function (tick) {
    var rows = tick.rows, chosen = tick.chosen_row;
    var width = this.chartWidth(), rowH = 28, top = 78, maxLabel = 4;
    for (var r = 0; r < rows.length; r++) maxLabel = Math.max(maxLabel, rows[r][0].length + 2);
    var left = Math.min(width * 0.36, Math.max(70, 9 * maxLabel + 16)), right = 20;
    var plotW = width - left - right, height = top + rows.length * rowH + 50;
    var x = function (p) { return left + plotW * p / 1.3; };  // 0..130%: room for labels past 100%
    this.distPanel.textContent = "";
    var root = svg("svg", {viewBox: "0 0 " + width + " " + height, width: width, height: height,
                           "class": "trace-distribution-svg", role: "img",
                           "aria-label": this.t("chart.distribution")}, this.distPanel);
    svg("text", {x: 6, y: 22, "font-size": 20}, root, this.t("chart.distribution"));
    var legend = [["bar-raw", this.t("chart.raw")], ["bar-filtered", this.t("chart.sampled")]];
    for (var l = 0; l < legend.length; l++) {
      svg("rect", {x: 8 + l * 170, y: 38, width: 14, height: 14, "class": legend[l][0]}, root);
      svg("text", {x: 28 + l * 170, y: 50, "font-size": 15}, root, legend[l][1]);
    }
    var bottom = top + rows.length * rowH, axis = this.d.percent_axis;
    for (var t = 0; t < axis.length; t++) {
      var gx = x(axis[t][0]);
      svg("line", {x1: gx, x2: gx, y1: top - 4, y2: bottom, "class": t === 0 ? "axis" : "grid"},
          root);
      svg("text", {x: gx, y: bottom + 18, "font-size": 14, "text-anchor": "middle",
                   "class": "muted"}, root, axis[t][1]);
    }
    svg("text", {x: left + plotW / 2, y: bottom + 40, "font-size": 15, "text-anchor": "middle"},
        root, this.t("player.probability"));
    var barH = 10;
    for (var i = 0; i < rows.length; i++) {
      var row = rows[i], y0 = top + i * rowH + 3, isChosen = i === chosen;
      var label = svg("text", {x: left - 8, y: y0 + barH + 5, "font-size": 15, "text-anchor": "end",
                               "class": isChosen ? "chosen-label" : ""}, root,
                      (isChosen ? "\u25B6 " : "") + row[0]);
      tooltip(label, row[0] + " (id " + row[3] + ")");
      // row: label, raw p, sampled-from p, id, their texts, the row's label ('raw → sampled')
      var bars = [[row[1], row[4], "bar-raw", this.t("chart.raw")],
                  [row[2], row[5], "bar-filtered", this.t("chart.sampled")]];
      var longest = 0;
      for (var b = 0; b < 2; b++) {
        var p = bars[b][0], by = y0 + b * (barH + 1);
        if (p === null) continue;  // not among the candidates recorded for this list
        longest = Math.max(longest, p);
        var rect = svg("rect", {x: left, y: by, width: Math.max(0, x(p) - left), height: barH,
                                "class": bars[b][2] + (isChosen ? " bar-chosen" : "")}, root);
        tooltip(rect, row[0] + " (id " + row[3] + ")\n" + bars[b][3] + ": " + bars[b][1]);
      }
      var number = svg("text", {x: x(longest) + 6, y: y0 + barH + 5, "font-size": 14,
                                "class": isChosen ? "chosen-label" : "muted"}, root, row[6]);
      if (isChosen) number.textContent = row[6] + "  " + this.t("player.chosen");
    }
  };

  // ------------------------------------------------------------------ attention
  Player.prototype.weights = function (tick) {
    // [n_heads][context] of the shown layer, and their mean over heads.
    var d = this.d, n = tick.context_len, heads = [], mean = new Array(n).fill(0);
    for (var h = 0; h < d.n_heads; h++) {
      var start = tick.attention_offset + (this.layer * d.n_heads + h) * n, row = new Array(n);
      for (var i = 0; i < n; i++) {
        row[i] = this.att[start + i] / 1000;
        mean[i] += row[i] / d.n_heads;
      }
      heads.push(row);
    }
    return {heads: heads, mean: mean};
  };

  Player.prototype.drawAttention = function () {
    var d = this.d, tick = d.ticks[this.shown], n = tick.context_len;
    if (tick.attention_offset === null) {  // dropped by the clock's history bound
      this.attSvgBox.textContent = "";
      el("p", "trace-note", this.attSvgBox, tick.attention_note);
      return;
    }
    var w = this.weights(tick), head = this.head, values = head < 0 ? w.mean : w.heads[head];
    var width = this.chartWidth(), height = 380, left = d.chart.left, right = d.chart.right;
    var top = 76, bottom = 96, labelPx = d.chart.label_px;
    var plotW = width - left - right, plotH = height - top - bottom, slot = plotW / n;
    var x = function (i) { return left + slot * (i + 0.5); };
    var y = function (v) { return top + plotH * (1 - v / 1.02); };
    this.attSvgBox.textContent = "";
    var root = svg("svg", {viewBox: "0 0 " + width + " " + height, width: width, height: height,
                           "class": "trace-attention-svg", role: "img",
                           "aria-label": tick.attention_title}, this.attSvgBox);
    svg("text", {x: 6, y: 22, "font-size": 20, "class": "trace-attention-title"}, root,
        tick.attention_title);  // names the token read at this tick: the newest position
    svg("text", {x: 6, y: 42, "font-size": 14, "class": "muted"}, root,
        head < 0 ? this.t("chart.layer_mean", {layer: this.layer})
                 : this.t("chart.layer_head", {layer: this.layer, head: head}));
    if (head >= 0) {  // the widget's legend: this head's bars, the mean as a line
      svg("rect", {x: width - 290, y: 52, width: 14, height: 14, "class": "legend-attention"},
          root);
      svg("text", {x: width - 270, y: 64, "font-size": 14}, root, this.t("chart.this_head"));
      svg("line", {x1: width - 180, x2: width - 160, y1: 59, y2: 59, "class": "line-mean"}, root);
      svg("text", {x: width - 154, y: 64, "font-size": 14}, root, this.t("chart.all_heads"));
    }
    var axis = d.weight_axis;
    for (var t = 0; t < axis.length; t++) {
      var gy = y(axis[t][0]);
      svg("line", {x1: left, x2: width - right, y1: gy, y2: gy,
                   "class": t === 0 ? "axis" : "grid"}, root);
      svg("text", {x: left - 6, y: gy + 4, "font-size": 14, "text-anchor": "end", "class": "muted"},
          root, axis[t][1]);
    }
    svg("text", {x: 16, y: top + plotH / 2, "font-size": 15, "text-anchor": "middle",
                 transform: "rotate(-90 16 " + (top + plotH / 2) + ")"}, root,
        this.t("player.attention_weight"));
    var labels = d.axis_labels[this.size()];
    var barW = Math.max(1, slot * 0.8);
    for (var i = 0; i < n; i++) {
      var rect = svg("rect", {x: x(i) - barW / 2, y: y(values[i]), width: barW,
                              height: Math.max(0, y(0) - y(values[i])),
                              "class": "bar-attention"}, root);
      tooltip(rect, this.t("text.position", {pos: i}) + ": " + labels[i] + "\n" +
              (head < 0 ? this.t("chart.all_heads") : this.t("chart.this_head")) + ": " +
              values[i].toFixed(3) +
              (head < 0 ? "" : "\n" + this.t("chart.all_heads") + ": " + w.mean[i].toFixed(3)));
    }
    if (head >= 0) {
      var points = [];
      for (var m = 0; m < n; m++) points.push(x(m).toFixed(1) + "," + y(w.mean[m]).toFixed(1));
      svg("polyline", {points: points.join(" "), "class": "line-mean"}, root);
      for (var k = 0; k < n; k++) {
        svg("circle", {cx: x(k), cy: y(w.mean[k]), r: 3, "class": "dot-mean"}, root);
      }
    }
    var labelled = tick.labelled[this.size()];  // which positions get a label (all that fit)
    for (var k = 0; k < labelled.length; k++) {
      var j = labelled[k], lx = x(j), ly = y(0) + 12;
      var label = svg("text", {x: lx, y: ly, "font-size": labelPx, "text-anchor": "end",
                               // bold for the query: the newest position
                               "font-weight": j === n - 1 ? 700 : 400,
                               transform: "rotate(-50 " + lx + " " + ly + ")"}, root, labels[j]);
      tooltip(label, this.t("text.position", {pos: j}));
    }
    svg("text", {x: left + plotW / 2, y: height - 4, "font-size": 15, "text-anchor": "middle"},
        root, this.t("player.context_position"));
  };

  // ------------------------------------------------------------------ mounting
  var players = [];

  function mountAll() {
    var roots = document.querySelectorAll(".llmclock-trace:not([data-mounted])");
    Array.prototype.forEach.call(roots, function (root) {
      root.setAttribute("data-mounted", "loading");
      var data = JSON.parse(root.querySelector("script.llmclock-trace-data").textContent);
      decodeAttention(data.attention).then(function (attention) {
        players.push(new Player(root, data, attention));
        root.setAttribute("data-mounted", "ready");
      }).catch(function (error) {
        root.setAttribute("data-mounted", "failed");
        el("div", "trace-error", root, "This recorded clock could not be shown: " + error.message);
        console.error(error);
      });
    });
  }

  // A page holding one player (the standalone file): the keys work without clicking it first.
  document.addEventListener("keydown", function (event) {
    var target = event.target;
    if (players.length !== 1 ||
        (target !== document.body && target !== document.documentElement)) return;
    if (players[0].key(event.key)) event.preventDefault();
  });

  window.LLMClockTrace = {mountAll: mountAll, players: players};
  mountAll();
})();
