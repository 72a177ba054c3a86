"""练习 · 09 给一段文本打分 (notebooks/zh/09_scoring_a_text.ipynb): the checks of
helpers.exercises.ch09."""

from __future__ import annotations

from .. import ch09 as english
from ._solutions import in_chinese, show

__all__ = ["check_to_bits", "check_perplexity", "check_token_logprobs", "check_biggest_jump",
           "SOLUTIONS", "show_solution"]

check_biggest_jump = in_chinese(english.check_biggest_jump)
check_perplexity = in_chinese(english.check_perplexity)
check_to_bits = in_chinese(english.check_to_bits)
check_token_logprobs = in_chinese(english.check_token_logprobs)

SOLUTIONS = {
    "to_bits": '''
def to_bits(logprobs):
    return -logprobs / math.log(2)     # log2 p = ln p / ln 2；惊异度是它的相反数
''',
    "perplexity": '''
def my_perplexity(logprobs):
    return math.exp(-logprobs.mean())   # 每个词元平均损失的 exp
''',
    "token_logprobs": '''
def my_token_logprobs(logits, ids):
    logprobs = torch.log_softmax(logits[:-1], dim=-1)     # 最后一行预测的是文本之外的词元
    return logprobs[torch.arange(len(ids) - 1), ids[1:]]  # 第 i 行给词元 i + 1 打分
''',
    "biggest_jump": '''
jump = scored["事实错误"].surprisal_bits - scored["通顺"].surprisal_bits
biggest_jump = scored["事实错误"].scored_tokens[int(jump.argmax())]
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
