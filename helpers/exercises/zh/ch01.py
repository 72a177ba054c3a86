"""练习 · 01 分词 (notebooks/zh/01_tokenization.ipynb): the checks of helpers.exercises.ch01."""

from __future__ import annotations

from .. import ch01 as english
from ._solutions import in_chinese, show

__all__ = ["check_n_bytes", "check_my_merge", "check_glued", "check_tokens_per_character",
           "SOLUTIONS", "show_solution"]

check_glued = in_chinese(english.check_glued)
check_my_merge = in_chinese(english.check_my_merge)
check_n_bytes = in_chinese(english.check_n_bytes)
check_tokens_per_character = in_chinese(english.check_tokens_per_character)

SOLUTIONS = {
    "n_bytes": '''
def n_bytes(text):
    return len(text.encode("utf-8"))   # 披萨🍕：2 个汉字 × 3 个字节 + 1 个 emoji × 4 个字节
''',
    "my_merge": '''
def my_merge(ids, pair, new_id):
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new_id)   # 这一对变成一个词元
            i += 2               # 两个都跳过：不重叠（[5, 5, 5] -> [7, 5]）
        else:
            out.append(ids[i])
            i += 1
    return out
''',
    "glued": '''
whole = b"".join(token_bytes(lm, i) for i in ids).decode("utf-8")
''',
    "tokens_per_character": '''
c = text_counts(smol, "我喜欢吃披萨")
tokens_per_character = c.tokens / c.characters   # Gemma：text_counts(lm, ...) 少得多
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
