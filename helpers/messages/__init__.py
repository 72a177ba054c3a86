"""The interface catalogues of helpers.i18n: one module per language (en.py, zh.py)."""
