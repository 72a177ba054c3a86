"""练习 · 07 KV 缓存与速度 (notebooks/zh/07_kv_cache_and_speed.ipynb): the checks of
helpers.exercises.ch07."""

from __future__ import annotations

from .. import ch07 as english
from ._solutions import in_chinese, show

__all__ = ["check_kv_cache_bytes", "check_times_bigger", "check_decode_bounds", "SOLUTIONS",
           "show_solution"]

check_decode_bounds = in_chinese(english.check_decode_bounds)
check_kv_cache_bytes = in_chinese(english.check_kv_cache_bytes)
check_times_bigger = in_chinese(english.check_times_bigger)

SOLUTIONS = {
    "kv_cache_bytes": '''
def kv_cache_bytes(model, tokens, bytes_per_number):
    return (model.n_layers * model.n_kv_heads * model.head_dim * 2   # K 和 V
            * bytes_per_number * tokens)
''',
    "times_bigger": '''
def times_bigger(model):
    return model.n_heads / model.n_kv_heads   # 每个查询头都会成为一个 KV 头
''',
    "decode_bounds": '''
bound_fp32 = 20e9 / weight_bytes            # 每一拍都要把全部权重读一遍
bound_4bit = 20e9 / (n_params * 0.5)         # 字节少 8 倍：上限高 8 倍
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
