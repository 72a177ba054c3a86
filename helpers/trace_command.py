"""`python -m helpers trace`: run the clock and write a recorded clock (helpers.trace) to one file.

    python -m helpers trace --prompt "The capital of France is" --ticks 20 --out paris.html
    python -m helpers trace --model gemma-3-270m --lang zh --prompt "我喜欢吃" --ticks 20 \\
        --out zh.html

    main(["--prompt", "Once upon a time", "--ticks", "5", "--out", "run.html"])   # from Python

It loads the model, runs a `Clock` with the sampling settings given, and saves the ticks with
`helpers.trace.save_trace`. Bad options get a one-line message and exit code 2 (checked before
the model is loaded where possible); an existing --out is refused without --force. The trace
module itself only draws ticks that a clock has run, so it never imports the clock.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from .clock import Clock, ClockError
from .i18n import LANGUAGES
from .models import ModelLoadError, load_model
from .sampling import CLOCK_TEMPERATURE, SamplingConfig
from .tick_view import byte_size
from .trace import TraceError, check_target, save_trace

__all__ = ["parser", "main"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # a short message and exit code 2, never a traceback
        self.exit(2, f"{self.prog}: {message}\nTry: python -m helpers trace --help\n")


def parser() -> argparse.ArgumentParser:
    p = _Parser(
        prog="python -m helpers trace",
        description="Run the clock and write one self-contained HTML file that replays the run "
        "(no kernel, no network needed to open it).",
    )
    p.add_argument("--prompt", required=True, help="the text to continue")
    p.add_argument(
        "--ticks", type=int, required=True, help="how many ticks to run (tick 0 is the prefill)"
    )
    p.add_argument("--out", required=True, help="the HTML file to write")
    p.add_argument("--temperature", type=float, default=CLOCK_TEMPERATURE,
                   help=f"0 = greedy (default {CLOCK_TEMPERATURE}, as the clock widget)")
    p.add_argument("--top-k", type=int, default=0, help="0 = off")
    p.add_argument("--top-p", type=float, default=1.0, help="1 = off")
    p.add_argument("--min-p", type=float, default=0.0, help="0 = off")
    p.add_argument("--repetition-penalty", type=float, default=1.0, help="1 = off")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument(
        "--chat", action="store_true", help="wrap the prompt in the model's chat template"
    )
    p.add_argument(
        "--model", default=None, help="a Hugging Face id or folder (default: the embedded SmolLM2)"
    )
    p.add_argument("--title", default=None, help="the title shown above the player")
    p.add_argument("--lang", default="en", choices=LANGUAGES,
                   help="the language of the player's labels (default en)")
    p.add_argument(
        "--force", action="store_true", help="overwrite --out if it exists (never a link)"
    )
    return p


def _check_out(path: Path, force: bool) -> None:
    try:
        check_target(path, overwrite=force)
    except TraceError as err:
        raise TraceError(f"--out {err}") from None
    folder = path.parent
    if not folder.is_dir():
        raise TraceError(f"--out {path}: the folder {folder} does not exist; create it first.")
    if not os.access(folder, os.W_OK):
        raise TraceError(
            f"--out {path}: cannot write there (permission denied); choose another path."
        )


def main(argv: list[str]) -> int:
    args = parser().parse_args(argv)
    out = Path(args.out).expanduser()
    try:
        if args.ticks < 1:
            raise TraceError(f"--ticks must be at least 1, got {args.ticks}.")
        if not args.prompt.strip():
            raise TraceError(
                "--prompt is empty: give the model some text to continue, e.g. 'Once upon a time'."
            )
        if args.seed < 0:
            raise TraceError(f"--seed must be a whole number >= 0, got {args.seed}.")
        config = SamplingConfig(
            temperature=args.temperature,
            top_k=args.top_k or None,
            top_p=args.top_p,
            min_p=args.min_p,
            repetition_penalty=args.repetition_penalty,
        )
        _check_out(out, args.force)
        lm = load_model(args.model)
        clock = Clock(lm, args.prompt, config, seed=args.seed, chat=args.chat)
        clock.run(args.ticks)
        save_trace(clock, out, args.title, overwrite=args.force, lang=args.lang)
    except (TraceError, ClockError, ModelLoadError, ValueError) as err:
        print(f"python -m helpers trace: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        print(
            f"python -m helpers trace: cannot write {out}: {err.strerror or err}", file=sys.stderr
        )
        return 2
    n = len(clock.history)
    early = f" (stopped early: {clock.stop_reason})" if n < args.ticks else ""
    print(
        f"Wrote {out} ({byte_size(out.stat().st_size)}): {n} ticks{early}. "
        "Open it in any browser."
    )
    return 0
