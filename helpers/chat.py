"""Stopping a generation: end-of-text tokens, a token budget and stop strings, tick by tick.

    clock = Clock(lm, "What is the capital of France?", SamplingConfig(temperature=0), chat=True)
    run = run_until_stop(clock, max_new_tokens=40, stop_strings=["\\n\\n"])
    run.reason, run.text            # why it stopped; the answer without end token or stop string
    stop_table(run)                 # one row per tick: the token and the decision taken

Four things can end a generation, checked after every tick in this order:

1. the chosen token is an end-of-text token (`Clock.end_ids`; SmolLM2-Instruct ends a turn
   with <|im_end|> = 2): the clock itself stops, `TickRecord.stop_reason` = "end of text";
2. the context is full ("context full", also the clock's own decision);
3. a stop string appears in the text generated so far. It is text, not a token: it may begin
   in the middle of a token or span several, so the decoded text is searched at every tick
   and cut where the string starts (the stop string itself is not returned, as in the OpenAI
   API; transformers' `generate(stop_strings=...)` keeps it, and also matches a string that
   begins in the prompt, where only the generated text counts here);
4. the token budget `max_new_tokens` is used up ("max tokens").
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

__all__ = ["find_stop_string", "StopRun", "run_until_stop", "stop_table"]


def find_stop_string(text: str, stop_strings: Sequence[str]) -> tuple[int, str] | None:
    """(where it starts, which one) of the earliest stop string in `text`, or None."""
    if isinstance(stop_strings, str):
        raise TypeError("stop_strings is a list of strings: write [\"\\n\\n\"], not \"\\n\\n\".")
    found = None
    for stop in stop_strings:
        if not isinstance(stop, str) or stop == "":
            raise ValueError(f"A stop string must be non-empty text, got {stop!r}.")
        at = text.find(stop)
        if at >= 0 and (found is None or at < found[0]):
            found = (at, stop)
    return found


@dataclass(frozen=True)
class StopRun:
    """The ticks of one generation and why it ended."""

    records: tuple                    # the clock's TickRecords of this run
    decisions: tuple[str, ...]        # per tick: "continue" or the reason it stopped there
    # "end of text" | "context full" | "stop string '...'" | "max tokens"
    reason: str
    text: str                         # the generated text, without an end token or stop string


def run_until_stop(clock, max_new_tokens: int, stop_strings: Sequence[str] = ()) -> StopRun:
    """Tick `clock` until one of the four stopping rules fires; returns every tick's decision."""
    if isinstance(max_new_tokens, bool) or not isinstance(max_new_tokens, int) \
            or max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be a whole number >= 1, got {max_new_tokens!r}.")
    find_stop_string("", stop_strings)  # validate before ticking
    start = len(clock.generated_ids)
    records, decisions = [], []
    reason, text = "max tokens", None
    for n in range(1, max_new_tokens + 1):
        record = clock.tick()
        records.append(record)
        new_text = clock.lm.decode(clock.generated_ids[start:])
        found = find_stop_string(new_text, stop_strings)
        if record.stop_reason is not None:
            reason = record.stop_reason
        elif found is not None:
            reason, text = f"stop string {found[1]!r}", new_text[:found[0]]
        elif n == max_new_tokens:
            reason = "max tokens"
        else:
            decisions.append("continue")
            continue
        decisions.append(reason)
        break
    if text is None:
        # The answer's text: an end-of-text token closes it but is not part of it.
        end = len(clock.generated_ids) - (reason == "end of text")
        text = clock.lm.decode(clock.generated_ids[start:end])
    return StopRun(tuple(records), tuple(decisions), reason, text)


def stop_table(run: StopRun, width: int = 14) -> str:
    """A plain-text table: tick, chosen token (id and text), its probability, the decision."""
    lines = [f"{'tick':>4}  {'id':>6}  {'token':<{width}}  {'p':>6}  decision"]
    for record, decision in zip(run.records, run.decisions):
        shown = repr(record.token_text)[:width]
        lines.append(f"{record.index:>4}  {record.token_id:>6}  {shown:<{width}}  "
                     f"{record.raw_prob:>6.3f}  {decision}")
    return "\n".join(lines)
