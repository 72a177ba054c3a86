"""LLM Clock helpers: the small library the notebooks call, one module per concept.

    models          load_model(): the embedded SmolLM2-135M-Instruct or Gemma 3 270M, or any
                    GPT-2, Llama or Gemma 3 model
    embedded        the embedded models' GGUF files and their one-time conversion (stamped folders)
    anatomy         where each part of a model lives (the one place families differ); hooks
    tokens          a from-scratch byte-level BPE, and token spans of a real tokenizer for display
    embeddings      one-hot lookup, neighbours, positions (learned table, RoPE), residual stream
    attention       attention weights, one head by hand, grouped-query heads, head pattern scores
    bertviz_offline bertviz's head and model views, working offline
    lens            the logit lens, and one transformer block by hand
    attribution     direct logit attribution: which parts of the model wrote a token's logit
    sampling        temperature, top-k, top-p, min-p, repetition penalty, draws
    clock           Clock: the tick-by-tick generation engine
    scoring         how likely the model finds each token of a text (surprisal, perplexity)
    chat            chat prompts (encode_chat: typed special tokens stay text); stopping a
                    generation: end tokens, budget, stop strings, decided per tick
    decoding        beam search from scratch (= generate(num_beams)), frequency/presence penalties
    ablation        switching attention heads off to measure what they do
    timing          timings that other programs on the machine cannot easily fool
    threads         the worker thread the ticks run on
    tick_view       one tick's words and numbers (status line, %, KiB/MiB, labels) for every view
    trace           a recorded clock replayed from one self-contained HTML file
    trace_command   python -m helpers trace: run a clock, save its trace
    validate        checking what a learner passes in: one set of validators for every helper
    escaping        data into HTML safely: JSON inside <script>, file names inside links
    batching        several prompts decoded together (left padding, attention masks)
    speculative     draft-and-verify greedy decoding with prompt-lookup drafts
    quantization    bytes per weight of number formats, round trips, drift against float32
    plots           plotly figures, one submodule per kind
    widgets         ipywidgets UIs
    i18n            the interface's words in each language (messages(lang), catalogue lookup)
    messages        the catalogues themselves: en.py and zh.py, the same keys
    build           build tools, not lessons: the HTML edition (site) and the lecture kit
    checks          exercise-check primitives that say what is wrong
    exercises       each notebook's exercise checks (chNN for notebook NN)
"""

from .models import LoadedModel, ModelLoadError, load_model

__all__ = ["LoadedModel", "ModelLoadError", "load_model"]
