"""练习 · 08 对话模板、特殊词元与停止 (notebooks/zh/08_chat_and_stopping.ipynb): the checks of
helpers.exercises.ch08 (exercise 1 checks against SmolLM2-Instruct's template: the embedded Gemma
is a base model without one)."""

from __future__ import annotations

from .. import ch08 as english
from ._solutions import in_chinese, show

__all__ = ["check_chat_text", "check_cut_at_stop", "check_decision", "SOLUTIONS", "show_solution"]

check_chat_text = in_chinese(english.check_chat_text)
check_cut_at_stop = in_chinese(english.check_cut_at_stop)
check_decision = in_chinese(english.check_decision)

SOLUTIONS = {
    "chat_text": '''
def chat_text(user, system=None):
    if system is None:     # 没给系统提示：模板悄悄加上默认的那条
        system = "You are a helpful AI assistant named SmolLM, trained by Hugging Face"
    turns = [("system", system), ("user", user)]
    text = "".join(f"<|im_start|>{role}\\n{content}<|im_end|>\\n" for role, content in turns)
    return text + "<|im_start|>assistant\\n"     # 生成提示：轮到助手说话
''',
    "cut_at_stop": '''
def cut_at_stop(text, stop_strings):
    starts = [text.find(s) for s in stop_strings if s in text]   # 按文字找，不用正则表达式
    return text[:min(starts)] if starts else text                 # 最早出现的那个
''',
    "decision": '''
def decision(token_id, n_new, max_new_tokens, end_ids):
    if token_id in end_ids:         # 先看结束词元：最后一拍写出的结束词元也算
        return "end of text"
    if n_new >= max_new_tokens:
        return "max tokens"
    return "continue"
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
