"""练习 · 10 解码策略 (notebooks/zh/10_decoding_strategies.ipynb): the checks of
helpers.exercises.ch10."""

from __future__ import annotations

from .. import ch10 as english
from ._solutions import in_chinese, show

__all__ = ["check_beam_score", "check_penalties", "check_top_head", "SOLUTIONS", "show_solution"]

check_beam_score = in_chinese(english.check_beam_score)
check_penalties = in_chinese(english.check_penalties)
check_top_head = in_chinese(english.check_top_head)

SOLUTIONS = {
    "beam_score": '''
def beam_score(sum_logprob, n_new_tokens, length_penalty):
    return sum_logprob / n_new_tokens ** length_penalty   # 长度只算新词元
''',
    "penalties": '''
def penalise(logits, previous_ids, frequency, presence):
    counts = torch.bincount(torch.tensor(previous_ids, dtype=torch.long), minlength=len(logits))
    return logits - frequency * counts - presence * (counts > 0).float()   # 返回新张量，不改原来的
''',
    "top_head": '''
# 展平后的一个下标，按每层的头数（一行的长度）拆回 (层, 头)
best_head = divmod(int(scores.flatten().argmax()), scores.shape[1])
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
