"""LLM Clock helpers: the small library the notebooks call, one module per concept.

    models     load_model(): the embedded SmolLM2-135M-Instruct or any GPT-2/Llama-family model
    tokens     token spans for display, a from-scratch BPE
    embeddings one-hot lookup, nearest neighbours, positions (learned table, RoPE), residual stream
    sampling   temperature, top-k, top-p, min-p, repetition penalty, draws
    clock      Clock: the tick-by-tick generation engine
    attention  attention weights, one head from scratch, offline bertviz
    lens       residual stream and logit lens
    plots      plotly figures
    widgets    ipywidgets UIs
    checks     exercise checks that explain what is wrong
"""

from .models import LoadedModel, ModelLoadError, load_model

__all__ = ["LoadedModel", "ModelLoadError", "load_model"]
