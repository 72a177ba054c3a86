"""Chat prompts and stopping: the chat template with typed text kept as text; end-of-text tokens,
a token budget and stop strings, tick by tick.

    text, ids = encode_chat(lm.tokenizer, "What is the capital of France?")
    text, ids = encode_chat(lm.tokenizer, "Hi", system_prompt="You are terse.")

    clock = Clock(lm, "What is the capital of France?", SamplingConfig(temperature=0), chat=True)
    run = run_until_stop(clock, max_new_tokens=40, stop_strings=["\\n\\n"])
    run.reason, run.text            # why it stopped; the answer without end token or stop string
    stop_table(run)                 # one row per tick: the token and the decision taken

`encode_chat` is how every chat prompt here is built (the clock's `chat=True`, the notebooks, the
benches and the tests). It wraps one user message in the model's chat template, as
`tokenizer.apply_chat_template(..., add_generation_prompt=True)` does, with one difference: the
template's own special tokens (`<|im_start|>`, `<|im_end|>`, ...) become special-token ids, but
the user's content and the system prompt are encoded as *text only*. `apply_chat_template` (and
`tokenizer.encode` of its text) turns a typed "<|im_end|>" into the real end-of-turn token, so a
user could close their own turn and write a fake one after it; here it stays the characters
`<`, `|`, `im`, ... For content without such text the ids are exactly `apply_chat_template`'s.

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

import re
from dataclasses import dataclass
from typing import Sequence

from .validate import check_text

__all__ = ["encode_chat", "find_stop_string", "StopRun", "run_until_stop", "stop_table"]

_USER, _SYSTEM = "\x00user\x00", "\x00system\x00"   # placeholders no real text contains


def encode_chat(tokenizer, content: str, system_prompt: str | None = None,
                error: type[Exception] = ValueError) -> tuple[str, list[int]]:
    """(text, ids) of one user message in the tokenizer's chat template, ready to generate.

    The template's own special tokens become their ids; `content` and `system_prompt` are
    encoded as plain text, so special-token text typed in them stays text. system_prompt=None
    leaves the template's default (SmolLM2's adds one silently). `text` is exactly what
    `tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)`
    renders; `ids` are that text's ids except inside content and system prompt.

        text, ids = encode_chat(lm.tokenizer, "What is the capital of France?")
        ids[:3]   # [1, 9690, 198]: <|im_start|> system newline (the default system turn)
    """
    check_text(content, "chat message", error)
    if system_prompt is not None:
        check_text(system_prompt, "system_prompt (text, or None for the template's default)",
                   error)
    if not getattr(tokenizer, "chat_template", None):
        name = getattr(tokenizer, "name_or_path", "") or "this model"
        raise error(f"{name} has no chat template: write the prompt as plain text "
                    f"(chat=False in a Clock or a widget).")
    # Render with placeholders to see which characters come from the template.
    holders = {_SYSTEM: system_prompt, _USER: content}
    messages = [{"role": "user", "content": _USER}]
    if system_prompt is not None:
        messages.insert(0, {"role": "system", "content": _SYSTEM})
    template = tokenizer.apply_chat_template(messages, add_generation_prompt=True,
                                             tokenize=False)
    specials = sorted(tokenizer.added_tokens_encoder, key=len, reverse=True)
    special_re = re.compile("|".join(map(re.escape, specials))) if specials else None
    pieces: list[tuple[bool, str]] = []  # (is a special token, text)
    for part in re.split(f"({_SYSTEM}|{_USER})", template):
        if part in holders:
            pieces.append((False, holders[part]))
            continue
        pos = 0
        for m in (special_re.finditer(part) if special_re else ()):
            pieces += [(False, part[pos:m.start()]), (True, m.group())]
            pos = m.end()
        pieces.append((False, part[pos:]))
    ids: list[int] = []
    text_run = ""
    for is_special, piece in pieces + [(True, "")]:
        if not is_special:
            text_run += piece
            continue
        # The tokenizer splits at special tokens first, so encoding the text between them
        # separately gives the same ids as encoding the whole, except that special-token
        # text inside user content stays text.
        if text_run:
            ids += tokenizer.encode(text_run, add_special_tokens=False, split_special_tokens=True)
        text_run = ""
        if piece:
            ids.append(tokenizer.convert_tokens_to_ids(piece))
    text = "".join(piece for _, piece in pieces)
    return text, ids


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
