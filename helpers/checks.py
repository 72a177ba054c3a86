"""Exercise checks that tell the learner what is wrong, and revealable solutions.

    checks.check_close(my_probs, expected, "your softmax", hint="Did you subtract the max?")
    checks.solution('''probs = logits.exp() / logits.exp().sum()''')

A check prints a green ✔ line when right and an orange ✘ line with the reason and the hint
when wrong; it never raises, so a learner's mistake does not stop the notebook.
It returns True/False so a notebook can also assert on its own worked examples.
"""

from __future__ import annotations

import html
from typing import Any

__all__ = ["check", "check_equal", "check_close", "solution", "CheckResult"]


class CheckResult:
    def __init__(self, ok: bool, message: str):
        self.ok, self.message = ok, message
        self.shown = False  # displayed once already, so a check on a cell's last line is not shown twice

    def __bool__(self) -> bool:
        return self.ok

    def _repr_html_(self) -> str:
        colour, mark = ("#009E73", "✔") if self.ok else ("#D55E00", "✘")
        body = html.escape(self.message).replace("\n", "<br>")
        return f'<div style="color:{colour};font-size:1.05em;font-weight:500">{mark} {body}</div>'

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


def check(ok: bool, name: str, problem: str = "", hint: str = "") -> CheckResult:
    """Report a yes/no check on `name`; `problem` says what is wrong, `hint` how to fix it."""
    if ok:
        return _show(CheckResult(True, f"{name}: correct."))
    text = f"{name}: not yet. {problem}".rstrip()
    if hint:
        text += f"\nHint: {hint}"
    return _show(CheckResult(False, text))


def _shape(x: Any):
    return tuple(getattr(x, "shape", ())) or None


def check_equal(answer: Any, expected: Any, name: str, hint: str = "", decode=None) -> CheckResult:
    """Exact equality (ids, strings, lists). `decode` (e.g. lm.decode) shows token ids as text too."""
    if answer is None or answer is Ellipsis:
        return check(False, name, "It is still empty: replace the ... with your code.", hint)
    try:
        answer_list = answer.tolist() if hasattr(answer, "tolist") else answer
        expected_list = expected.tolist() if hasattr(expected, "tolist") else expected
        ok = answer_list == expected_list
    except Exception:  # incomparable types are simply wrong
        ok = False
        answer_list, expected_list = answer, expected
    problem = ""
    if not ok:
        problem = f"Expected {expected_list!r:.200}, got {answer_list!r:.200}."
        if decode is not None:
            try:
                as_ids = lambda v: [v] if isinstance(v, int) else list(v)  # noqa: E731
                problem += f" As text: expected {decode(as_ids(expected_list))!r}, got {decode(as_ids(answer_list))!r}."
            except Exception:  # the answer was not token ids after all
                pass
    return check(ok, name, problem, hint)


def check_close(answer: Any, expected: Any, name: str, hint: str = "", atol: float = 1e-5, rtol: float = 1e-4) -> CheckResult:
    """Numerical closeness of tensors/arrays/floats, with a readable reason when they differ."""
    import torch

    if answer is None or answer is Ellipsis:
        return check(False, name, "It is still empty: replace the ... with your code.", hint)
    try:
        a = torch.as_tensor(answer, dtype=torch.float64)
        e = torch.as_tensor(expected, dtype=torch.float64)
    except Exception:
        return check(False, name, f"Expected numbers, got {type(answer).__name__}.", hint)
    if a.shape != e.shape:
        return check(False, name, f"Shape {tuple(a.shape)} but expected {tuple(e.shape)}.", hint)
    if torch.isnan(a).any():
        return check(False, name, "It contains NaN (not a number): look for 0/0 or inf - inf.", hint)
    diff = (a - e).abs()
    ok = bool(torch.all(diff <= atol + rtol * e.abs()))
    problem = "" if ok else f"Largest difference {float(diff.max()):.3g} (allowed {atol:.0e})."
    if not ok:
        problem += _likely_mistake(a, e)
    return check(ok, name, problem, hint)


def _likely_mistake(answer, expected) -> str:
    """Name the common slips: a distribution that does not sum to 1, an inverted ratio,
    a sign flip, a scale off by a constant factor."""
    import torch

    def close(x, y):
        return x.shape == y.shape and bool(torch.allclose(x, y, rtol=1e-3, atol=1e-6))

    if expected.numel() > 1 and expected.min() >= 0 and abs(float(expected.sum()) - 1) < 1e-4:
        total = float(answer.sum())
        if abs(total - 1) > 1e-3:
            return f" Your values sum to {total:.4g}, but a probability distribution sums to 1."
    if (expected != 0).all() and close(answer, 1 / expected):
        return " It is the reciprocal of the expected value: the ratio is upside down."
    if close(answer, -expected):
        return " The sign is flipped."
    nonzero = expected.abs() > 1e-12
    if nonzero.any():
        ratio = answer[nonzero] / expected[nonzero]
        if float(ratio.std() if ratio.numel() > 1 else 0) < 1e-6 and abs(float(ratio.mean()) - 1) > 1e-3:
            return f" Every value is {float(ratio.mean()):.4g} times the expected one: a missing or extra factor."
    return ""


def solution(code: str, title: str = "Show a worked solution"):
    """A collapsed block with the worked solution; the learner clicks to reveal it."""
    from IPython.display import HTML

    return HTML(
        f"<details><summary style='cursor:pointer;color:#0072B2;font-weight:600'>{html.escape(title)}</summary>"
        f"<pre style='background:#f6f8fa;padding:8px;border-radius:6px'>{html.escape(code.strip())}</pre></details>"
    )
