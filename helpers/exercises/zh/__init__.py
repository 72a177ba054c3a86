"""The Chinese edition's exercises (notebooks/zh/): the same checks as the English notebooks,
re-exported from helpers.exercises.chNN speaking Chinese (in_chinese(english.check_x): every
text from helpers/messages/exercises_zh.py, so a check is never written twice), with worked
solutions that use the zh notebooks' own variable names and Chinese comments."""
