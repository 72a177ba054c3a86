"""练习 · 02 嵌入 (notebooks/zh/02_embeddings.ipynb): the checks of helpers.exercises.ch02."""

from __future__ import annotations

from .. import ch02 as english
from ._solutions import in_chinese, show

__all__ = ["check_paris_vector", "check_cosine", "check_rope_angle", "SOLUTIONS", "show_solution"]

check_cosine = in_chinese(english.check_cosine)
check_paris_vector = in_chinese(english.check_paris_vector)
check_rope_angle = in_chinese(english.check_rope_angle)

SOLUTIONS = {
    "paris_vector": '''
beijing_vector = E[beijing]   # 等于 one_hot([beijing], lm.vocab_size) @ E，只是不用乘那些 0
''',
    "cosine": '''
cosine = torch.dot(man, woman) / (man.norm() * woman.norm())
''',
    "rope_angle": '''
angle = 10 * global_theta ** (-2 * 1 / lm.head_dim)
# 约 8.98 弧度；滑动窗口层（θ = 10,000）里是 10 * 10000 ** (-2 / 256) ≈ 9.3
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
