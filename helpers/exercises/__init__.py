"""Exercise checks and worked solutions, one module per notebook (ch00 ... ch11).

    from helpers.exercises import ch01
    ch01.check_my_merge(my_merge)      # ✔, or ✘ with what is wrong
    ch01.show_solution("my_merge")     # the worked solution, folded until the learner clicks

Each exercise's check lives here rather than in the notebook so that the test suite can feed
it the wrong answers a learner really types (and the worked solution) and assert the feedback.
A check evaluates the learner's answer on more than one configuration where that is what it
takes to tell a right formula from a wrong one whose numbers happen to coincide, and judges a
right answer by its content whatever its form (a tuple for a list, a token as its id or text).

Each module's SOLUTIONS holds the worked solutions' source (the only copy): show_solution
reveals it, and the notebook tests run exactly that source in place of the exercise's answer.

A check spells no word itself: it names each text by key, msg("chNN.<exercise>.<what>", ...),
in the catalogue of each language (helpers/messages/exercises_en.py, exercises_zh.py). An
edition re-exports the checks in its language, with its own SOLUTIONS:

    # helpers/exercises/zh/ch09.py
    from .. import ch09 as english
    from ._solutions import in_chinese, show

    check_to_bits = in_chinese(english.check_to_bits)      # the same check, Chinese feedback
"""
