"""The logit lens figure fits a 1280x720 screen: at most 16 rows by default (first and last
block kept), labels at readable size, the input tokens above the columns as well as below."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
import torch

from helpers.plots.lens import MAX_ROWS, default_blocks, logit_lens_heatmap


def fake_lens(n_rows: int, tokens=("The", "·capital", "·of", "·France", "·is")):
    T, k = len(tokens), 3
    probs = torch.rand(n_rows, T, k, generator=torch.Generator().manual_seed(0))
    return SimpleNamespace(tokens=list(tokens), top_ids=torch.zeros(n_rows, T, k, dtype=torch.long),
                           top_probs=probs, top_tokens=[[["·Paris"] * k] * T] * n_rows)


def test_31_rows_are_thinned_to_every_second_block_with_the_last_kept():
    assert default_blocks(31) == list(range(0, 31, 2))
    assert default_blocks(12) == list(range(12))
    for n in (17, 25, 40):
        rows = default_blocks(n)
        assert len(rows) <= MAX_ROWS and rows[0] == 0 and rows[-1] == n - 1


def test_smollm2_sized_lens_fits_720p_with_readable_labels():
    fig = logit_lens_heatmap(fake_lens(31))
    assert len(fig.data[0].z) == 16 and fig.layout.height <= 560
    assert "every 2nd block" in fig.layout.title.text and "range(31)" in fig.layout.title.text
    assert fig.layout.xaxis.tickfont.size >= 14 and fig.data[1].textfont.size >= 14
    top = [a.text for a in fig.layout.annotations if a.yref == "paper" and a.y == 1.0]
    assert top == list(fig.layout.xaxis.ticktext)  # column labels at the top too
    assert list(fig.layout.yaxis.ticktext)[-1] == "after block 30"


def test_explicit_blocks_are_kept():
    fig = logit_lens_heatmap(fake_lens(31), blocks=list(range(31)))
    assert len(fig.data[0].z) == 31 and "every" not in fig.layout.title.text
    with pytest.raises(ValueError):
        logit_lens_heatmap(fake_lens(5), blocks=[7])
