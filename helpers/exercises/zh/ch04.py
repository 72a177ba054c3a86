"""练习 · 04 前向计算 (notebooks/zh/04_forward_pass.ipynb): the checks of helpers.exercises.ch04.

check_silu is not offered: Gemma 3's MLP is a GeGLU (GELU, tanh approximation), not SmolLM2's
SwiGLU, so the English edition's "write SiLU yourself" exercise has no place here (see
NOT_IN_ZH in tests/test_editions.py).
"""

from __future__ import annotations

from .. import ch04 as english
from ._solutions import in_chinese, show

__all__ = ["check_rms_norm", "check_top_after", "check_share", "SOLUTIONS", "show_solution"]

check_rms_norm = in_chinese(english.check_rms_norm)
check_share = in_chinese(english.check_share)
check_top_after = in_chinese(english.check_top_after)

SOLUTIONS = {
    "rms_norm": '''
def my_rms_norm(x, weight, eps):
    return weight * x / torch.sqrt(x.pow(2).mean(dim=-1, keepdim=True) + eps)
''',
    "top_after": '''
def top_after(n):
    with torch.no_grad():
        return int(lm.model.lm_head(final_norm(stream[n, -1])).argmax())

print(repr(lm.decode([top_after(12)])))   # 第 12 个块之后还不是 '首都'
''',
    "share": '''
def share(c, weight, scale, row):
    return (weight * c * scale) @ row    # 冻结的最终归一化，再点乘反嵌入的那一行
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
