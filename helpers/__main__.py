"""`python -m helpers COMMAND`:

prepare   convert the embedded models once (the set-up scripts call it):
          prepare [--all] [--verify] [SmolLM2-135M-Instruct | gemma-3-270m ...]
trace     run the clock and write one self-contained HTML file replaying the run
site      build the offline HTML edition of the notebooks (English and notebooks/zh)
lecture   build the lecture's slides and worksheet into docs/lecture
"""

import sys


def main(argv: list[str]) -> int:
    command = argv[0] if argv else ""
    if command == "trace":
        from .trace_command import main as trace_main

        return trace_main(argv[1:])
    if command == "site":
        from .build.site import main as site_main

        return site_main(argv[1:])
    if command == "lecture":
        from .build.lecture import main as lecture_main

        return lecture_main(argv[1:])
    if command in ("-h", "--help"):
        print(__doc__.strip())
        return 0
    if command == "prepare":
        from .embedded import main as prepare_main

        return prepare_main(argv[1:])
    print(
        "usage: python -m helpers {prepare,trace,site,lecture} ...  (python -m helpers --help)",
        file=sys.stderr,
    )
    return 2


raise SystemExit(main(sys.argv[1:]))
