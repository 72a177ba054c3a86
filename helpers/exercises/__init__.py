"""Exercise checks, one module per notebook (ch00 ... ch11).

Each exercise's check lives here rather than in the notebook so that the test suite can feed
it the wrong answers a learner really types (and the worked solution) and assert the feedback.
A check evaluates the learner's answer on more than one configuration where that is what it
takes to tell a right formula from a wrong one whose numbers happen to coincide.
"""
