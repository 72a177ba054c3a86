"""练习 · 03 注意力 (notebooks/zh/03_attention.ipynb): the checks of helpers.exercises.ch03."""

from __future__ import annotations

from .. import ch03 as english
from ._solutions import in_chinese, show

__all__ = ["check_softmax_row", "check_kv_head", "check_previous_token_score", "SOLUTIONS",
           "show_solution"]

check_kv_head = in_chinese(english.check_kv_head)
check_previous_token_score = in_chinese(english.check_previous_token_score)
check_softmax_row = in_chinese(english.check_softmax_row)

SOLUTIONS = {
    "softmax_row": '''
my_weights = torch.exp(row) / torch.exp(row).sum()
# 不会溢出的 softmax 先减去最大的分数（结果相同）：
# my_weights = torch.exp(row - row.max()) / torch.exp(row - row.max()).sum()
''',
    "kv_head": '''
def kv_head(head, n_heads, n_kv_heads):
    group_size = n_heads // n_kv_heads   # 每个 kv 头对应几个查询头：Gemma 3 270M 是 4
    return head // group_size            # 查询头 0、1、2、3 共用 kv 头 0
''',
    "previous_token_score": '''
my_prev_score = torch.diagonal(W[2, 3], offset=-1).mean()
# 或者用循环：sum(W[2, 3, i, i - 1] for i in range(1, T)) / (T - 1)
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
