"""The recorded clock (helpers.trace): what goes into the file, that it is self-contained, and the
command line's answers to bad input. The player itself is clicked in the browser tests
(tests/browser/test_trace_in_browser.py)."""

from __future__ import annotations

import base64
import json
import re
import subprocess
import sys
import zlib

import numpy as np
import pytest

from helpers.clock import Clock
from helpers.tick_view import distribution_rows
from helpers.sampling import SamplingConfig
from helpers.trace import TraceError, save_trace, snapshot_html, trace_data, trace_html
from helpers.trace_command import main as trace_main

from conftest import REPO


def _unpack(b64: str) -> np.ndarray:
    split = np.frombuffer(zlib.decompress(base64.b64decode(b64)), dtype=np.uint8)
    n = split.size // 2
    return (split[:n].astype(np.uint16) << 8) | split[n:]


def _data_of(page: str) -> dict:
    match = re.search(
        r"<script type='application/json' class='llmclock-trace-data'>(.*?)</script>", page, re.S
    )
    assert match, "the page carries no trace data"
    return json.loads(match.group(1))


def test_trace_data_holds_what_the_player_shows(tiny_lm):
    clock = Clock(
        tiny_lm, "The capital of France is", SamplingConfig(temperature=0.8, top_k=5), seed=3
    )
    clock.run(6)
    data = trace_data(clock)
    n_prompt = len(clock.prompt_ids)
    assert data["n_prompt"] == n_prompt and len(data["ticks"]) == 6
    assert data["ids"] == clock.ids and len(data["text"]) == n_prompt + 6
    assert (data["n_layers"], data["n_heads"]) == (tiny_lm.n_layers, tiny_lm.n_heads)
    values = _unpack(data["attention"])
    for tick, record in zip(data["ticks"], clock.history):
        assert tick["status"].startswith(f"tick {record.index} · {record.phase}")
        assert tick["context_len"] == record.context_len
        # Attention: the newest position's row for every layer and head, in thousandths.
        size = tiny_lm.n_layers * tiny_lm.n_heads * record.context_len
        stored = values[tick["attention_offset"] : tick["attention_offset"] + size] / 1000
        expected = record.attention.float().numpy().reshape(-1)
        assert np.abs(stored - expected).max() <= 0.0005 + 1e-3 * expected.max()
        # Distribution: the widget's rows, probabilities rounded to 4 decimals, chosen one marked.
        rows = distribution_rows(
            record.top_raw,
            record.top_filtered,
            (record.token_id, record.token_text, record.raw_prob, record.prob),
            tiny_lm.tokenizer,
        )
        assert [r[0] for r in tick["rows"]] == [r.label for r in rows]
        assert [r[3] for r in tick["rows"]] == [r.token_id for r in rows]
        for stored_row, row in zip(tick["rows"], rows):
            for got, want in ((stored_row[1], row.raw), (stored_row[2], row.filtered)):
                assert (got is None) == (want is None)
                if want is not None:
                    assert abs(got - want) <= 0.00006 and (got > 0) == (
                        want > 0
                    )  # never a false 0%
        assert tick["rows"][tick["chosen_row"]][3] == record.token_id
        assert tick["settings"] == (
            "sampling at this tick: temperature 0.8 · top-k 5 · top-p off · min-p off"
            " · repetition penalty off"
        )
    assert data["start"] == "first"


def test_byte_fragments_are_grouped_into_characters(tiny_lm):
    # The tiny tokenizer saw no Chinese: every character is several byte tokens.
    clock = Clock(tiny_lm, "我喜欢 pizza", SamplingConfig(temperature=0))
    clock.tick()
    data = trace_data(clock)
    groups = {g[2] for g in data["groups"]}
    assert {"我", "喜", "欢"} <= groups, data["groups"]
    first = next(g for g in data["groups"] if g[2] == "我")
    # Alone, each fragment shows its bytes (e6 88 91 is 我 in UTF-8), never a bare '�'.
    fragments = "".join(data["text"][first[0] : first[0] + first[1]])
    assert "\ufffd" not in fragments and re.sub(r"[^0-9a-f]", "", fragments) == "e68891"


def test_a_fragment_that_completes_a_character_is_labelled_with_it(tiny_lm):
    # 我 is three byte tokens in the tiny vocabulary (e6 88 91): forced one by one, the tick
    # that completes it names it in its candidate rows and status line, not only ⟨91⟩.
    clock = Clock(tiny_lm, "I like", SamplingConfig(temperature=0))
    for piece in tiny_lm.encode("我"):
        clock.force(piece)
        clock.tick()
    last = trace_data(clock)["ticks"][-1]
    assert last["rows"][last["chosen_row"]][0] == "⟨91⟩→我" and "⟨91⟩→我" in last["status"]


def test_the_file_is_self_contained(tiny_lm, tmp_path):
    clock = Clock(tiny_lm, "Once upon a time", SamplingConfig(temperature=0))
    clock.run(3)
    path = save_trace(clock, tmp_path / "run.html", title="A </script> in the title")
    page = path.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    # No external resource: no src/href attributes, no @import or url() in the CSS.
    assert not re.search(r"""\s(src|href)\s*=""", page, re.I)
    assert "@import" not in page and "url(" not in page
    data = _data_of(page)
    assert data["title"] == "A </script> in the title" and len(data["ticks"]) == 3
    assert "&lt;/script&gt;" in page.split("<body")[0]  # escaped in <title>


def test_file_size_grows_linearly_with_ticks(tiny_lm, tmp_path):
    sizes = {}
    for n in (4, 8, 16):
        clock = Clock(tiny_lm, "The clock ticks", SamplingConfig(temperature=0))
        clock.end_ids = frozenset()  # keep ticking through end-of-text
        clock.run(n)
        sizes[n] = len(trace_html(clock).encode())
    fixed = 2 * sizes[4] - sizes[8]  # the player itself
    assert fixed > 0 and sizes[16] < fixed + 4.5 * (sizes[4] - fixed), sizes


def test_no_tick_no_trace(tiny_lm, tmp_path):
    clock = Clock(tiny_lm, "Hello")
    with pytest.raises(TraceError, match="has not ticked yet"):
        save_trace(clock, tmp_path / "empty.html")
    assert "no tick has run yet" in snapshot_html(clock)
    clock.tick()
    fragment = snapshot_html(clock)
    assert "<html" not in fragment and _data_of(fragment)["start"] == "last"


def _cli(*args: str) -> subprocess.CompletedProcess:
    """`python -m helpers trace ...` in a subprocess, as a user would run it."""
    return subprocess.run(
        [sys.executable, "-m", "helpers", "trace", *args],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
    )


def _main(capsys, *args: str) -> tuple[int, str]:
    """The same entry point in-process (much faster than a subprocess): (exit code, stderr)."""
    try:
        code = trace_main(list(args))
    except SystemExit as stop:  # argparse's own errors
        code = stop.code
    return code, capsys.readouterr().err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--prompt", "", "--ticks", "3"], "--prompt is empty"),
        (["--prompt", "Hi", "--ticks", "0"], "--ticks must be at least 1"),
        (["--prompt", "Hi", "--ticks", "three"], "invalid int value"),
        (
            ["--prompt", "Hi", "--ticks", "3", "--temperature", "-1"],
            "temperature must be a number >= 0",
        ),
        (["--prompt", "Hi", "--ticks", "3", "--top-p", "1.5"], "top_p must be in (0, 1]"),
        (["--prompt", "Hi", "--ticks", "3", "--min-p", "1"], "min_p must be in [0, 1)"),
        (
            ["--prompt", "Hi", "--ticks", "3", "--repetition-penalty", "0"],
            "repetition_penalty must be in [0.001, 1000]",
        ),
        (["--prompt", "Hi", "--ticks", "3", "--top-k", "-2"], "top_k must be"),
        (["--prompt", "Hi", "--ticks", "3", "--seed", "-1"], "--seed must be"),
        (["--prompt", "Hi"], "required"),
    ],
)
def test_cli_rejects_bad_input_with_a_short_message(args, message, tmp_path, capsys):
    code, err = _main(capsys, *args, "--out", str(tmp_path / "t.html"))
    assert code == 2 and message in err, err
    assert len(err.splitlines()) <= 3, err
    assert not (tmp_path / "t.html").exists()


def test_cli_rejects_an_unwritable_path(tmp_path, capsys):
    for out, message in (
        (tmp_path / "no" / "such" / "t.html", "does not exist"),
        (tmp_path, "is a folder"),
    ):
        code, err = _main(capsys, "--prompt", "Hi", "--ticks", "2", "--out", str(out))
        assert code == 2 and message in err, err


def test_cli_bad_input_in_a_real_process_prints_no_traceback(tmp_path):
    result = _cli(
        "--prompt", "Hi", "--ticks", "2", "--top-p", "7", "--out", str(tmp_path / "t.html")
    )
    assert result.returncode == 2 and "top_p must be in (0, 1]" in result.stderr, result
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr


def test_cli_writes_a_trace(tiny_gpt2_dir, tmp_path):
    out = tmp_path / "tiny.html"
    result = _cli(
        "--prompt",
        "The capital of France is",
        "--ticks",
        "4",
        "--temperature",
        "0.7",
        "--seed",
        "2",
        "--top-p",
        "0.9",
        "--model",
        str(tiny_gpt2_dir),
        "--out",
        str(out),
    )
    assert result.returncode == 0, result.stderr
    assert f"Wrote {out}" in result.stdout and "4 ticks" in result.stdout
    data = _data_of(out.read_text(encoding="utf-8"))
    assert len(data["ticks"]) == 4 and "seed 2" in data["meta"] and "top-p 0.9" in data["meta"]


def test_main_module_lists_its_commands():
    result = subprocess.run(
        [sys.executable, "-m", "helpers", "nonsense"], capture_output=True, text=True, cwd=REPO
    )
    assert result.returncode == 2 and "prepare" in result.stderr and "trace" in result.stderr


# ----------------------------------------------------------- --out: never clobber, never follow


def _tiny_args(tiny_gpt2_dir, out, *extra):
    return ["--prompt", "Hello", "--ticks", "2", "--temperature", "0", "--model",
            str(tiny_gpt2_dir), "--out", str(out), *extra]


def test_cli_refuses_an_existing_file_unless_forced(tiny_gpt2_dir, tmp_path, capsys):
    out = tmp_path / "notes.html"
    out.write_text("my own notes")
    code, err = _main(capsys, *_tiny_args(tiny_gpt2_dir, out))
    assert code == 2 and "already exists" in err and "--force" in err, err
    assert out.read_text() == "my own notes"
    code, err = _main(capsys, *_tiny_args(tiny_gpt2_dir, out, "--force"))
    assert code == 0, err
    assert len(_data_of(out.read_text(encoding="utf-8"))["ticks"]) == 2
    assert [p.name for p in tmp_path.iterdir()] == ["notes.html"]  # no temporary file left


def test_cli_never_writes_through_a_symlink(tiny_gpt2_dir, tmp_path, capsys):
    target = tmp_path / "precious.txt"
    target.write_text("keep me")
    link = tmp_path / "link.html"
    link.symlink_to(target)
    dangling = tmp_path / "dangling.html"
    dangling.symlink_to(tmp_path / "nowhere.txt")
    for out in (link, dangling):
        for extra in ((), ("--force",)):
            code, err = _main(capsys, *_tiny_args(tiny_gpt2_dir, out, *extra))
            assert code == 2 and "symbolic link" in err, err
    assert target.read_text() == "keep me" and not (tmp_path / "nowhere.txt").exists()


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tiny_lm, tmp_path, monkeypatch):
    out = tmp_path / "run.html"
    clock = Clock(tiny_lm, "Hello")
    clock.run(2)
    save_trace(clock, out)
    before = out.read_bytes()
    clock.run(1)

    def fail(*args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("helpers.trace.os.fsync", fail)
    with pytest.raises(OSError, match="No space"):
        save_trace(clock, out)
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["run.html"]
    monkeypatch.undo()
    with pytest.raises(TraceError, match="already exists"):
        save_trace(clock, out, overwrite=False)
    save_trace(clock, out)  # the Python API overwrites by default, atomically
    assert len(_data_of(out.read_text(encoding="utf-8"))["ticks"]) == 3


# ------------------------------------------------------------ JSON inside <script>, escaped fully

HOSTILE = "<!--<script>alert(1)</script> & </SCRIPT> \u2028\u2029 --> <![CDATA[ ]]>"


def test_hostile_text_stays_inside_the_data_script(tiny_lm):
    clock = Clock(tiny_lm, "<!--<script>&\u2028")  # the tiny models read 64 tokens at most
    clock.run(2)
    page = trace_html(clock, title=HOSTILE)
    match = re.search(
        r"<script type='application/json' class='llmclock-trace-data'>(.*?)</script>", page, re.S
    )
    raw = match.group(1)
    # Inside the script element: no character that HTML's script parsing looks at.
    assert not set(raw) & set("<>&\u2028\u2029"), raw[:200]
    data = json.loads(raw)
    assert data["title"] == HOSTILE
    text = data["text"][len(tiny_lm.prompt_prefix):len(clock.prompt_ids)]   # after Gemma's <bos>
    assert "".join(text).startswith("<!--<script>&")
    # The page has exactly the scripts the player puts there.
    from helpers.trace import PLAYER_DIR

    js = (PLAYER_DIR / "player.js").read_text(encoding="utf-8")
    assert page.count("</script>") == 2 and "</script" not in js.lower()
    assert page.count("<script") == 2 + js.count("<script")


def test_script_json_is_the_same_json_value():
    from helpers.escaping import script_json

    value = {"a": HOSTILE, "b": [1, 2.5, None, True], "<k>": "&amp;"}
    text = script_json(value)
    assert json.loads(text) == value and not set(text) & set("<>&\u2028\u2029")
