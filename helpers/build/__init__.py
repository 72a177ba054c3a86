"""Build tools: programs that make something FROM the lessons, not lessons themselves. A learner
never needs them; the notebooks never import them.

    site      the offline HTML edition: every notebook (notebooks/ and notebooks/zh/) executed
              into static pages, each page's own words in its language
              (python -m helpers site [--lang zh])
    lecture   the lecture kit: slides and a worksheet built from the model
              (python -m helpers lecture)

They live inside the helpers package (not in a top-level tools/ folder) because the site
builder runs part of itself inside each notebook's kernel (the widget snapshots), so it must be
importable wherever helpers is installed; they import the lesson modules, never the other way.
"""
