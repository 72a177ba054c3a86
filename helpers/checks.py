"""Exercise checks that tell the learner what is wrong, and revealable solutions.

    checks.check_close(my_probs, expected, "your softmax", hint="Did you subtract the max?")
    checks.solution('''probs = logits.exp() / logits.exp().sum()''')

A check prints a green ✔ line when right and an orange ✘ line with the reason and the hint
when wrong; it never raises, so a learner's mistake does not stop the notebook.
It returns True/False so a notebook can also assert on its own worked examples.

Every word a check shows comes from the exercise catalogue of one language
(helpers/messages/exercises_en.py, exercises_zh.py), by key. A chapter module names its texts
with msg(key, **values), rendered only when shown, in the language of the check being run:

    mistakes = [(lambda n, t: n + t + 1, msg("ch00.kv_cache_length.one_too_many"))]
    check_function(fn, reference, cases, msg("ch00.kv_cache_length.name"), mistakes=mistakes)

A check is written once, in English's module; an edition re-exports it with
speaking("zh", check), which runs it with every text in Chinese. Plain strings still work
(shown as they are) for a notebook's own ad-hoc checks.
"""

from __future__ import annotations

import contextvars
import functools
import html
from contextlib import contextmanager
from typing import Any

from .i18n import check_lang, messages

__all__ = ["check", "check_equal", "check_close", "check_function", "same_token", "solution",
           "solution_of", "CheckResult", "Text", "msg", "say", "speaking", "check_language",
           "heard", "shown"]

_LANG: contextvars.ContextVar[str] = contextvars.ContextVar("llmclock_check_lang", default="en")
_HEARD: contextvars.ContextVar[list | None] = contextvars.ContextVar("llmclock_check_heard",
                                                                     default=None)


def check_language() -> str:
    """The language the check being run speaks ('en' outside speaking(...))."""
    return _LANG.get()


def say(key: str, **values) -> str:
    """The catalogue text `key` in the language of the check being run, its {names} filled."""
    heard_keys = _HEARD.get()
    if heard_keys is not None:
        heard_keys.append(key)
    return messages(_LANG.get())(key, **values)


class Text:
    """A catalogue text not yet in a language: rendered (by say) when it is shown."""

    def __init__(self, key: str, **values):
        self.key, self.values = key, values

    def __str__(self) -> str:
        return say(self.key, **self.values)

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __repr__(self) -> str:
        return f"msg({self.key!r})"


def msg(key: str, **values) -> Text:
    """The text `key` of the exercise catalogue, with the values it fills in."""
    return Text(key, **values)


def speaking(lang: str, check_fn):
    """`check_fn` answering in `lang`: what an edition's exercise module re-exports
    (helpers/exercises/zh/chNN.py: check_x = speaking("zh", chNN.check_x))."""
    check_lang(lang)

    @functools.wraps(check_fn)
    def in_language(*args, **kwargs):
        token = _LANG.set(lang)
        try:
            return check_fn(*args, **kwargs)
        finally:
            _LANG.reset(token)

    in_language.lang = lang
    return in_language


@contextmanager
def heard():
    """The keys of the texts shown while inside, in order (the tests compare the editions)."""
    keys: list[str] = []
    token = _HEARD.set(keys)
    try:
        yield keys
    finally:
        _HEARD.reset(token)


class CheckResult:
    def __init__(self, ok: bool, message: str):
        self.ok, self.message = ok, message
        # displayed once already, so a check on a cell's last line is not shown twice
        self.shown = False

    def __bool__(self) -> bool:
        return self.ok

    def _repr_html_(self) -> str:
        colour, mark = ("#009E73", "✔") if self.ok else ("#D55E00", "✘")
        body = html.escape(self.message).replace("\n", "<br>")
        verdict = "pass" if self.ok else "fail"   # read by the notebook tests
        return (f'<div class="llmclock-check" data-check="{verdict}" '
                f'style="color:{colour};font-size:1.05em;font-weight:500">{mark} {body}</div>')

    def _ipython_display_(self) -> None:
        if not self.shown:
            _show(self)

    def __repr__(self) -> str:
        return ("✔ " if self.ok else "✘ ") + self.message


def _show(result: CheckResult) -> CheckResult:
    result.shown = True
    try:
        from IPython import get_ipython
        from IPython.display import HTML, display

        if get_ipython() is not None:
            display(HTML(result._repr_html_()))
            return result
    except ImportError:
        pass
    print(repr(result))
    return result


def check(ok: bool, name, problem="", hint="") -> CheckResult:
    """Report a yes/no check on `name`; `problem` says what is wrong, `hint` how to fix it.
    Each is a str or a msg(...) (rendered here, in the language of the check being run)."""
    name, problem, hint = str(name), str(problem), str(hint)
    if ok:
        return _show(CheckResult(True, say("check.correct", name=name)))
    text = (say("check.not_yet_because", name=name, problem=problem) if problem
            else say("check.not_yet", name=name))
    if hint:
        text += "\n" + say("check.hint", hint=hint)
    return _show(CheckResult(False, text))


def _shape(x: Any):
    return tuple(getattr(x, "shape", ())) or None


def _as_list(x: Any) -> Any:
    """A comparable plain value: tensors and arrays as lists, tuples as lists (all the way down),
    so that a right answer in another container, (5, 6, 9) for [5, 6, 9], is still right."""
    if hasattr(x, "tolist"):
        x = x.tolist()
    if isinstance(x, (list, tuple)):
        return [_as_list(item) for item in x]
    return x


def shown(value: Any, limit: int) -> str:
    """repr(value), cut to `limit` characters with … when longer (a long list or tensor)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _is_empty(answer: Any) -> bool:
    return answer is None or answer is Ellipsis


def same_token(answer: Any, token_id: int, label: str, others=()) -> bool:
    """Does `answer` name this token? Any of its forms counts: the id (an int or a 0-d tensor),
    its exact text (' Paris'), its visible label ('·Paris', as tokens.visible writes it), or the
    word without its leading space ('Paris') when no other label in `others` reads the same."""
    from .tokens import visible

    if hasattr(answer, "tolist"):
        answer = answer.tolist()
    if isinstance(answer, bool):
        return False
    if isinstance(answer, int):
        return answer == token_id
    if not isinstance(answer, str) or not answer:
        return False
    if answer == label or visible(answer) == label:
        return True

    def word(text: str) -> str:
        return visible(text).strip("·")

    return bool(word(answer)) and word(answer) == word(label) and \
        sum(word(other) == word(label) for other in others) <= 1


def check_equal(answer: Any, expected: Any, name: str, hint: str = "", decode=None,
                mistakes=(), reveal: bool = False) -> CheckResult:
    """Exact equality (ids, strings, lists) that names the slip without giving the answer away.

    decode (e.g. lm.decode): token ids are also shown as text, so ' Rome' vs 'Rome' is visible.
    mistakes: (wrong answer, message) pairs; an answer equal to one gets its message.
    reveal=True also prints the expected value: only for a test case's result, never for the
    answer of an exercise.
    """
    if _is_empty(answer):
        return check(False, name, msg("check.empty"), hint)
    answer_list, expected_list = _as_list(answer), _as_list(expected)
    try:
        ok = bool(answer_list == expected_list)
    except Exception:  # incomparable types are simply wrong
        ok = False
    if ok:
        return check(True, name)
    for wrong, message in mistakes:
        try:
            if _as_list(wrong) == answer_list:
                return check(False, name, message, hint)
        except Exception:
            continue
    return check(False, name, _equal_problem(answer_list, expected_list, decode, reveal), hint)


def _equal_problem(answer, expected, decode, reveal: bool) -> str:
    if reveal:
        problem = say("check.equal.expected_got", expected=shown(expected, 200),
                      answer=shown(answer, 200))
    else:
        problem = say("check.equal.yours_is", answer=shown(answer, 200))
    if isinstance(expected, bool) or isinstance(answer, bool):
        pass
    elif type(answer) is not type(expected) and not (isinstance(answer, (int, float))
                                                     and isinstance(expected, (int, float))):
        problem += say("check.equal.other_type", yours=type(answer).__name__,
                       right=type(expected).__name__)
    elif decode is None and isinstance(expected, int) and isinstance(answer, int) \
            and abs(answer - expected) == 1:  # (neighbouring token ids mean nothing)
        problem += say("check.equal.one_too_many" if answer > expected
                       else "check.equal.one_too_few")
    elif isinstance(expected, list) and isinstance(answer, list):
        if len(answer) != len(expected):
            problem += say("check.equal.length", yours=len(answer), right=len(expected))
        else:
            first = next(i for i, (a, e) in enumerate(zip(answer, expected)) if a != e)
            problem += say("check.equal.differs_at", position=first)
    if decode is not None:
        problem += _as_text(answer, expected, decode, reveal)
    return problem


def _as_text(answer, expected, decode, reveal: bool) -> str:
    """Token ids read as text: the slip is often a missing leading space (' Rome' vs 'Rome')."""
    try:
        as_ids = lambda v: [v] if isinstance(v, int) else list(v)  # noqa: E731
        yours, right = decode(as_ids(answer)), decode(as_ids(expected))
    except Exception:  # the answer was not token ids after all
        return ""
    if reveal:
        return say("check.as_text.expected_got", right=repr(right), yours=repr(yours))
    text = say("check.as_text.yours", yours=repr(yours))
    if yours.strip() == right.strip() and yours != right:
        text += say("check.as_text.with_space" if right.startswith(" ")
                    else "check.as_text.without_space")
    return text


def check_close(answer: Any, expected: Any, name: str, hint: str = "", atol: float = 1e-5,
                rtol: float = 1e-4, mistakes=(), period: float | None = None) -> CheckResult:
    """Numerical closeness of tensors/arrays/floats, with a readable reason when they differ.

    mistakes: (wrong value, message) pairs; an answer close to one gets its message.
    period (e.g. 2π for an angle): an answer off by whole periods is named as such, and a
    ratio to the expected value is never offered as the reason (it means nothing mod 2π).
    """
    import torch

    if _is_empty(answer):
        return check(False, name, msg("check.empty"), hint)
    if callable(answer):
        return check(False, name, msg("check.close.a_function"), hint)
    try:
        a = torch.as_tensor(answer, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
    except Exception:
        return check(False, name, msg("check.close.not_numbers", kind=type(answer).__name__),
                     hint)
    if a.shape != e.shape:
        if a.squeeze().shape == e.squeeze().shape:   # e.g. a [1, 576] row for a [576] vector
            a = a.reshape(e.shape)
        else:
            return check(False, name, msg("check.close.shape", yours=tuple(a.shape),
                                          right=tuple(e.shape)), hint)
    if torch.isnan(a).any():
        return check(False, name, msg("check.close.nan"), hint)
    ok = _close(a, e, atol, rtol)
    if ok:
        return check(True, name)
    for wrong, message in mistakes:
        try:
            w = torch.as_tensor(wrong, dtype=torch.float64)
        except Exception:
            continue
        if w.numel() == a.numel() and _close(a, w.reshape(a.shape), atol, rtol):
            return check(False, name, message, hint)
    diff = (a - e).abs()
    problem = say("check.close.difference", largest=f"{float(diff.max()):.3g}",
                  allowed=f"{atol:.0e}")
    return check(False, name, problem + _likely_mistake(a, e, period), hint)


def _close(a, e, atol: float, rtol: float) -> bool:
    import torch

    return bool(torch.all((a - e).abs() <= atol + rtol * e.abs()))


def _simple_factor(ratio: float) -> str | None:
    """A ratio that a slip would produce: a whole number or its inverse, ln 2, degrees."""
    import math

    named = {math.log(2): "check.factor.ln2", 1 / math.log(2): "check.factor.one_over_ln2",
             180 / math.pi: "check.factor.degrees", math.pi / 180: "check.factor.radians"}
    for value, key in named.items():
        if abs(ratio / value - 1) < 1e-3:
            return say(key)
    for n in range(2, 10001):
        for value, label in ((n, f"{n}"), (1 / n, f"1/{n}")):
            if abs(ratio / value - 1) < 1e-4:
                return label
    return None


def _likely_mistake(answer, expected, period: float | None = None) -> str:
    """Name the common slips: a distribution that does not sum to 1, an inverted ratio,
    a sign flip, whole periods of an angle, a scale off by a constant factor.

    A constant ratio is only offered when it means something: over several values, or for
    one value when it is a simple factor (a single wrong number always has *some* ratio).
    """
    import torch

    def close(x, y):
        return x.shape == y.shape and bool(torch.allclose(x, y, rtol=1e-3, atol=1e-6))

    if expected.numel() > 1 and expected.min() >= 0 and abs(float(expected.sum()) - 1) < 1e-4:
        total = float(answer.sum())
        if abs(total - 1) > 1e-3:
            return say("check.likely.sum", total=f"{total:.4g}")
    if period is not None:
        turns = (answer - expected) / period
        if close(turns, turns.round()):
            return say("check.likely.whole_turns")
    if (expected != 0).all() and close(answer, 1 / expected):
        return say("check.likely.reciprocal")
    if close(answer, -expected):
        return say("check.likely.sign")
    nonzero = expected.abs() > 1e-12
    if period is None and nonzero.any():
        ratio = answer[nonzero] / expected[nonzero]
        mean = float(ratio.mean())
        if ratio.numel() > 1 and float(ratio.std()) < 1e-6 and abs(mean - 1) > 1e-3:
            return say("check.likely.every_value_times", factor=f"{mean:.4g}")
        factor = _simple_factor(mean) if ratio.numel() == 1 else None
        if factor is not None:
            return say("check.likely.times", factor=factor)
    return ""


def check_function(fn: Any, reference, cases, name: str, hint: str = "", mistakes=(),
                   describe=None, reveal: bool = False, raised=()) -> CheckResult:
    """Run the learner's function on several cases and compare it with `reference`.

    A formula checked on one configuration can be right by coincidence (SmolLM2's 9 query
    heads / 3 kv heads = 3 = n_kv_heads); several cases tell the formulas apart.
    cases: argument tuples. mistakes: (wrong function, message) pairs; a function that
    agrees with a wrong one on every case gets its message. describe(case) words a case.
    raised: (exception type, message) pairs; a function that raises one of these (e.g. re.error
    from an unescaped regular expression) gets its message instead of the bare exception.
    A result in another container (a tuple for a list) or a 0-d tensor for a number is judged
    by its content. reveal=True shows the expected result of the first failing case (a test
    case of a function, not the answer to the exercise).
    """
    import torch

    if _is_empty(fn):
        return check(False, name, msg("check.empty"), hint)
    if not callable(fn):
        return check(False, name, msg("check.function.not_a_function", kind=type(fn).__name__),
                     hint)
    describe = describe or (lambda case: msg("check.function.the_arguments", case=repr(case)))

    def same(x, y) -> bool:
        try:
            if torch.is_tensor(x) or torch.is_tensor(y) or isinstance(x, float) \
                    or isinstance(y, float):
                x64 = torch.as_tensor(x, dtype=torch.float64)
                y64 = torch.as_tensor(y, dtype=torch.float64)
                if x64.shape != y64.shape and x64.squeeze().shape == y64.squeeze().shape:
                    x64 = x64.reshape(y64.shape)   # only singleton dimensions differ
                return x64.shape == y64.shape and bool(
                    torch.allclose(x64, y64, rtol=1e-4, atol=1e-6, equal_nan=True))
            return _as_list(x) == _as_list(y)
        except Exception:
            return False

    results = []
    for case in cases:
        try:
            results.append(fn(*case))
        except Exception as err:  # the learner's code failed: say where, not a traceback
            kind_name = _error_name(err)
            for kind, message in raised:
                if isinstance(err, kind):
                    return check(False, name, msg("check.function.raised_known",
                                                  message=message, error=kind_name,
                                                  detail=err, case=describe(case)), hint)
            return check(False, name, msg("check.function.raised", error=kind_name,
                                          detail=err, case=describe(case)), hint)
    if all(got is Ellipsis for got in results):
        return check(False, name, msg("check.function.empty"), hint)
    wrong = [(case, got) for case, got in zip(cases, results) if not same(got, reference(*case))]
    if not wrong:
        return check(True, name)
    if all(got is None for got in results):
        return check(False, name, msg("check.function.none_every_time"), hint)
    for wrong_fn, message in mistakes:
        try:
            if all(same(got, wrong_fn(*case)) for case, got in zip(cases, results)):
                return check(False, name, message, hint)
        except Exception:
            continue
    case, got = wrong[0]
    if any(got is None for _, got in wrong):
        return check(False, name, msg("check.function.none"), hint)
    key = "check.function.wrong_expected" if reveal else "check.function.wrong"
    return check(False, name, msg(key, case=describe(case), yours=shown(_as_list(got), 100),
                                  right=shown(_as_list(reference(*case)), 100) if reveal else "",
                                  n_wrong=len(wrong), n_cases=len(cases)), hint)


def _error_name(err: Exception) -> str:
    """TypeError, or re.error for an exception that is not a builtin."""
    kind = type(err)
    return kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"


def solution(code: str, title: str | None = None, lang: str = "en"):
    """A collapsed block with the worked solution; the learner clicks to reveal it. The title
    is the catalogue's "Show a worked solution" in `lang` unless given."""
    from IPython.display import HTML

    title = messages(lang)("check.show_solution") if title is None else title
    summary = "cursor:pointer;color:#0072B2;font-weight:600"
    block = "background:#f6f8fa;padding:8px;border-radius:6px"
    return HTML(f"<details><summary style='{summary}'>{html.escape(title)}</summary>"
                f"<pre style='{block}'>{html.escape(code.strip())}</pre></details>")


def solution_of(solutions: dict[str, str], name: str, lang: str = "en"):
    """The worked solution `name` of an exercise module's SOLUTIONS, folded until clicked
    (under a title in `lang`).

    The source lives only in the module (helpers/exercises/chNN.py), never in a notebook cell,
    and the notebook tests execute exactly this source in place of the exercise's answer.
    """
    if name not in solutions:
        raise KeyError(f"No worked solution named {name!r}; there are: "
                       f"{', '.join(map(repr, solutions))}.")
    return solution(solutions[name], lang=lang)
