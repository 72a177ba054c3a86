"""The lecture kit, generated from the project so that it never goes stale: slides for the
45-minute lecture and a printable worksheet with its answer sheet and exit questions.

    python -m helpers lecture --out docs/lecture         # slides.html, worksheet.html

Both are single offline HTML files (no request leaves the page: the pictures are inline SVG or
data: URIs) and print one slide or one sheet per page. Every number in them is computed here,
from the embedded model, when they are built: the predict-the-next-token moments, the
distributions, the prefill/decode table and the attention chart.
"""

from __future__ import annotations

import argparse
import base64
import html
import sys
from pathlib import Path

from ..attention import content_head
from ..clock import Clock
from ..tick_view import byte_size, percent_label
from ..plots.style import presenter_mode, set_presenter_mode
from ..plots.svg import attention_svg, distribution_svg
from ..sampling import CLOCK_TEMPERATURE, SamplingConfig
from ..tokens import visible

__all__ = ["PREDICT_PROMPTS", "analogy_svg", "slides_html", "worksheet_html", "build", "main"]

DOCS = Path(__file__).resolve().parents[2] / "docs"
# The predict-the-next-token moments: the class guesses, then the model's distribution shows.
PREDICT_PROMPTS = ("The capital of France is", "Once upon a time, there was a", "1, 2, 3, 4,")

_CSS = """
body { font-family: 'Noto Sans', 'Noto Sans CJK SC', Arial, sans-serif; margin: 0; color: #222; }
section { box-sizing: border-box; min-height: 100vh; padding: 40px 60px;
  border-bottom: 1px solid #ddd; }
h1 { font-size: 44px; margin: 0 0 18px; } h2 { font-size: 34px; margin: 0 0 16px; }
p, li, td, th { font-size: 24px; line-height: 1.45; } .small { font-size: 18px; color: #555; }
table { border-collapse: collapse; }
td, th { border: 1px solid #ccc; padding: 4px 12px; text-align: left; }
.guess { font-size: 40px; border-bottom: 3px solid #0072B2; display: inline-block;
  min-width: 260px; }
img { max-width: 100%; border: 1px solid #ddd; }
.sheet section { min-height: auto; }
.answer { color: #0072B2; }
@media print {
  section { min-height: auto; page-break-after: always; border: none; padding: 20px 30px; }
  .noprint { display: none; }
}
"""
_KEYS_JS = """<script>
// Arrow keys / PageUp / PageDown / space move one slide; nothing is loaded from anywhere.
document.addEventListener('keydown', function (e) {
  var slides = document.querySelectorAll('section'), y = window.scrollY + 2, i = 0;
  for (var k = 0; k < slides.length; k++) if (slides[k].offsetTop <= y) i = k;
  var next = {ArrowRight: 1, ArrowDown: 1, PageDown: 1, ' ': 1,
              ArrowLeft: -1, ArrowUp: -1, PageUp: -1}[e.key];
  if (!next) return;
  e.preventDefault();
  var target = slides[Math.max(0, Math.min(slides.length - 1, i + next))];
  window.scrollTo(0, target.offsetTop);
});
</script>"""


def analogy_svg(width: int = 900) -> str:
    """The clock analogy drawn: fetch → decode → execute → write-back, the KV cache beside
    execute, and the loop back to the next tick."""
    stages = [
        ("fetch", "read the context:", "the prompt at tick 0,", "then the newest token"),
        ("decode", "token ids →", "embedding vectors", ""),
        ("execute", "transformer blocks:", "attention + MLP", "(append keys/values)"),
        ("write-back", "logits → probabilities", "→ sampler picks one", "→ append to the text"),
    ]
    box_w, gap, top = (width - 60) // 4 - 20, 20, 40
    parts = []
    for i, (name, *lines) in enumerate(stages):
        x = 30 + i * (box_w + gap)
        parts.append(f'<rect x="{x}" y="{top}" width="{box_w}" height="150" rx="12" '
                     f'fill="#DCEBF7" stroke="#0072B2" stroke-width="2"/>')
        parts.append(f'<text x="{x + box_w / 2}" y="{top + 34}" font-size="24" font-weight="700" '
                     f'text-anchor="middle">{name}</text>')
        for j, line in enumerate(lines):
            parts.append(f'<text x="{x + box_w / 2}" y="{top + 70 + 26 * j}" font-size="17" '
                         f'text-anchor="middle">{html.escape(line)}</text>')
        if i < 3:
            ax = x + box_w
            parts.append(f'<line x1="{ax + 2}" y1="{top + 75}" x2="{ax + gap - 4}" y2="{top + 75}" '
                         'stroke="#222" stroke-width="3" marker-end="url(#arrow)"/>')
    ex = 30 + 2 * (box_w + gap)
    parts.append(f'<rect x="{ex}" y="{top + 200}" width="{box_w}" height="80" rx="10" '
                 'fill="#FCEBD0" stroke="#E69F00" stroke-width="2"/>')
    parts.append(f'<text x="{ex + box_w / 2}" y="{top + 226}" font-size="20" font-weight="700" '
                 'text-anchor="middle">KV cache</text>')
    for j, line in enumerate(("keys and values of", "every earlier position")):
        parts.append(f'<text x="{ex + box_w / 2}" y="{top + 250 + 17 * j}" font-size="15" '
                     f'text-anchor="middle">{line}</text>')
    parts.append(f'<line x1="{ex + box_w / 2}" y1="{top + 152}" x2="{ex + box_w / 2}" '
                 f'y2="{top + 196}" stroke="#E69F00" stroke-width="3" marker-end="url(#arrow)"/>')
    last = 30 + 3 * (box_w + gap)
    loop_y = top + 320
    parts.append(f'<polyline points="{last + box_w / 2},{top + 150} {last + box_w / 2},{loop_y} '
                 f'{30 + box_w / 2},{loop_y} {30 + box_w / 2},{top + 154}" fill="none" '
                 'stroke="#D55E00" stroke-width="3" marker-end="url(#arrow)"/>')
    parts.append(f'<text x="{width / 2}" y="{loop_y - 10}" font-size="18" text-anchor="middle" '
                 'fill="#D55E00">next tick: the chosen token is fed in</text>')
    return (
        f'<svg class="analogy" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{loop_y + 30}" viewBox="0 0 {width} {loop_y + 30}" role="img" '
        'aria-label="The clock analogy: fetch, decode, execute, write-back, with the KV cache">'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" '
        'markerHeight="7" orient="auto"><path d="M0,0 L10,5 L0,10 z" fill="#222"/></marker>'
        '</defs>' + "".join(parts) + "</svg>"
    )


def _png(name: str) -> str:
    """A screenshot of docs/ as a data: URI (the slides carry their pictures inside)."""
    path = DOCS / name
    if not path.exists():
        return ""
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"<img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>"


def _tick0(lm, prompt: str, temperature: float = 0.0):
    clock = Clock(lm, prompt, SamplingConfig(temperature=temperature), seed=0)
    return clock, clock.tick()


def _distribution(record, lm, width: int = 1000, height: int = 440) -> str:
    return distribution_svg(record.top_raw, record.top_filtered, record.token_id,
                            chosen_probs=(record.token_text, record.raw_prob, record.prob),
                            tokenizer=lm.tokenizer, width=width, height=height)


def _page(title: str, body: str, keys: bool = False) -> str:
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head>\n"
        f"<body>{body}{_KEYS_JS if keys else ''}</body></html>\n"
    )


def slides_html(lm) -> str:
    """The 45-minute lecture's slides, one <section> each, charts in presenter sizes."""
    was = presenter_mode()
    set_presenter_mode(True)
    try:
        return _slides(lm)
    finally:
        set_presenter_mode(was)


def _slides(lm) -> str:
    s = []
    s.append("<section><h1>How a language model writes</h1><p>One token per tick, like a CPU "
             "runs one instruction per cycle.</p><p class='small'>LLM Clock · the embedded "
             f"{html.escape(lm.name)} (4-bit weights computed in float32) · arrow keys move "
             "between slides</p></section>")
    for n, prompt in enumerate(PREDICT_PROMPTS[:2], 1):
        _, record = _tick0(lm, prompt, CLOCK_TEMPERATURE)
        s.append(f"<section><h2>Predict the next token ({n})</h2><p>Write down the next token:</p>"
                 f"<p><b>{html.escape(prompt)}</b> <span class='guess'>&nbsp;</span></p>"
                 "<p class='small'>Then compare with the model on the next slide.</p></section>")
        s.append(f"<section><h2>What the model says after “{html.escape(prompt)}”</h2>"
                 f"{_distribution(record, lm)}<p class='small'>Grey: the model's own "
                 f"probabilities. Blue: what the sampler draws from at temperature "
                 f"{CLOCK_TEMPERATURE}. ▶: the token chosen at this tick.</p></section>")
    s.append("<section><h2>A tick is an instruction cycle</h2>" + analogy_svg() +
             "<p class='small'>Fetch–decode–execute–write-back is a CPU's instruction cycle, "
             "not its clock cycle: ticks are not equal (next slide).</p></section>")
    clock = Clock(lm, PREDICT_PROMPTS[0], SamplingConfig(temperature=0.0))
    clock.run(6)
    rows = "".join(
        f"<tr><td>{r.index}</td><td>{r.phase}</td>"
        f"<td>{r.context_len if r.phase == 'prefill' else 1}</td>"
        f"<td>{html.escape(visible(r.token_text))}</td><td>{r.kv_cache_len}</td></tr>"
        for r in clock.history
    )
    s.append("<section><h2>Prefill, then decode</h2><table><tr><th>tick</th><th>phase</th>"
             "<th>tokens read</th><th>chosen</th><th>KV cache after</th></tr>" + rows +
             "</table><p>Tick 0 reads the whole prompt in one pass (the <b>prefill</b>); every "
             "later tick reads one token, the rest comes from the KV cache.</p></section>")
    s.append("<section><h2>The clock, live</h2>" + _png("clock-widget.png") +
             "<p class='small'>Notebook 06: Step, Run N, Rewind, Force, the scrubber.</p>"
             "</section>")
    layer, head = content_head(lm)
    record = clock.history[0]
    tokens = [visible(t) for t in clock.tokens[: record.context_len]]
    s.append("<section><h2>Where did it look?</h2>" +
             attention_svg(record.attention, tokens, layer, head, 1000, 440, reading=tokens[-1]) +
             f"<p class='small'>Layer {layer}, head {head}: the head that reads content most "
             "(most heads park their weight on the first token, the attention sink).</p>"
             "</section>")
    _, greedy = _tick0(lm, PREDICT_PROMPTS[2], 0.0)
    s.append(f"<section><h2>Predict the next token (3)</h2><p><b>{html.escape(PREDICT_PROMPTS[2])}"
             "</b> <span class='guess'>&nbsp;</span></p><p class='small'>Greedy (temperature "
             f"0): the model says “{html.escape(visible(greedy.token_text))}” with raw "
             f"probability {percent_label(greedy.raw_prob)}.</p></section>")
    s.append("<section><h2>Recap</h2><ul><li>A tick = one forward pass + one chosen token.</li>"
             "<li>The output is a probability for every token of the vocabulary; the sampler "
             "picks.</li><li>Tick 0 is the prefill; later ticks read one token and reuse the KV "
             "cache.</li><li>Everything else (chat, stopping, “creativity”) is the loop around "
             "it.</li></ul></section>")
    return _page("LLM Clock: the lecture", "".join(s), keys=True)


def worksheet_html(lm) -> str:
    """A printable worksheet (predict, read a distribution, spot the prefill), its answer
    sheet and three exit questions."""
    q, a = [], []
    q.append("<section><h1>LLM Clock · worksheet</h1><p>Name: ________________________</p>"
             "<h2>1. Predict the next token</h2><table><tr><th>text</th><th>your guess</th>"
             "</tr>" + "".join(f"<tr><td>{html.escape(p)}</td><td style='width:300px'></td></tr>"
                                for p in PREDICT_PROMPTS) + "</table>")
    answers = []
    for prompt in PREDICT_PROMPTS:
        _, r = _tick0(lm, prompt, 0.0)
        top = ", ".join(f"“{html.escape(visible(c.text))}” {percent_label(c.prob)}"
                        for c in r.top_raw[:3])
        answers.append(f"<li>{html.escape(prompt)} → the model's top three: {top}</li>")
    a.append("<section><h1>Answer sheet</h1><h2>1.</h2><ul class='answer'>" + "".join(answers) +
             "</ul>")
    _, r = _tick0(lm, PREDICT_PROMPTS[1], CLOCK_TEMPERATURE)
    second = r.top_raw[1]
    q.append("<h2>2. Read a distribution</h2>" + _distribution(r, lm, 700, 330) +
             "<ol type='a'><li>Which token was chosen?</li><li>What is the raw probability of "
             "the second most likely token?</li><li>Why are the blue bars longer than the grey "
             "ones for the top tokens?</li><li>At temperature 0, which token would be chosen?"
             "</li></ol>")
    a.append("<h2>2.</h2><ol type='a' class='answer'>"
             f"<li>“{html.escape(visible(r.token_text))}”</li>"
             f"<li>{percent_label(second.prob)} (“{html.escape(visible(second.text))}”)</li>"
             f"<li>Temperature {CLOCK_TEMPERATURE} &lt; 1 sharpens the distribution: likely tokens "
             "gain probability, unlikely ones lose it.</li>"
             f"<li>The most likely one: “{html.escape(visible(r.top_raw[0].text))}” "
             "(greedy).</li></ol>")
    clock = Clock(lm, PREDICT_PROMPTS[0], SamplingConfig(temperature=0.0))
    clock.run(4)
    rows = "".join(f"<tr><td>{chr(65 + i)}</td><td>{r.context_len if r.phase == 'prefill' else 1}"
                   f"</td><td>{r.kv_cache_len}</td></tr>" for i, r in enumerate(clock.history))
    q.append("<h2>3. Spot the prefill</h2><table><tr><th>tick</th><th>tokens read</th>"
             f"<th>KV cache after</th></tr>{rows}</table><p>Which row is the prefill? Why does "
             "it read more tokens than the others?</p>")
    a.append("<h2>3.</h2><p class='answer'>Row A: tick 0 reads the whole prompt "
             f"({clock.history[0].context_len} tokens) in one pass; every later tick reads one "
             "token and takes the rest from the KV cache.</p>")
    exits = ["What does one tick produce?", "Why does the same prompt give different texts at "
             "temperature 0.7 but always the same text at temperature 0?",
             "What does the KV cache save, and when is it filled?"]
    q.append("<h2>Exit questions</h2><ol>" + "".join(f"<li>{e}<br><br><br></li>" for e in exits)
             + "</ol></section>")
    a.append("<h2>Exit questions</h2><ol class='answer'><li>A probability for every token of the "
             "vocabulary, and one token chosen from it and appended to the text.</li><li>At 0.7 "
             "the sampler draws at random from the distribution (a seed fixes the draws); at 0 "
             "it always takes the most likely token.</li><li>The keys and values of earlier "
             "positions, so a decode tick feeds only the newest token; each token's entry is "
             "written when it is fed (the prompt's at the prefill).</li></ol></section>")
    return _page("LLM Clock: worksheet", "<div class='sheet'>" + "".join(q + a) + "</div>")


def build(lm, out: Path) -> list[Path]:
    """Write slides.html and worksheet.html into `out`; returns their paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / "slides.html", out / "worksheet.html"]
    paths[0].write_text(slides_html(lm), encoding="utf-8")
    paths[1].write_text(worksheet_html(lm), encoding="utf-8")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m helpers lecture",
        description="Build the lecture's slides and worksheet (offline HTML, printable).")
    parser.add_argument("--out", default=str(DOCS / "lecture"), help="the folder to write into")
    parser.add_argument("--model", default=None, help="a model id or folder (default: embedded)")
    args = parser.parse_args(argv)
    from ..models import load_model

    for path in build(load_model(args.model), Path(args.out)):
        print(f"Wrote {path} ({byte_size(path.stat().st_size)})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
