"""The lecture kit builds from the project (python -m helpers lecture) into two offline HTML
files: every picture inline, no address outside the page, every number from the model."""

from __future__ import annotations

import re

from helpers.clock import Clock
from helpers.build.lecture import PREDICT_PROMPTS, build
from helpers.sampling import SamplingConfig
from helpers.tokens import visible


def test_slides_and_worksheet_build_offline_from_the_model(tiny_lm, tmp_path):
    slides, worksheet = build(tiny_lm, tmp_path)
    for page in (slides.read_text(), worksheet.read_text()):
        addresses = set(re.findall(r"(?:src|href)=['\"]([^'\"]*)", page))
        assert all(a.startswith(("data:", "#")) for a in addresses), addresses
        assert not re.findall(r"https?://(?!www\.w3\.org/2000/svg)", page)  # the SVG namespace only
    text = slides.read_text()
    assert text.count("<section>") >= 10 and "class=\"analogy\"" in text
    assert all(prompt in text for prompt in PREDICT_PROMPTS)
    greedy = Clock(tiny_lm, PREDICT_PROMPTS[0], SamplingConfig(temperature=0)).tick()
    sheet = worksheet.read_text()
    assert "Answer sheet" in sheet and "Exit questions" in sheet
    import html
    assert html.escape(visible(greedy.token_text)) in sheet  # the answers are the model's
