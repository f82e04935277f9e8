"""`microgpt explore`: a trained model, opened in the browser and looked at from the inside.

    server.py      the web server: the page's files and a small JSON API, safe on one's own machine
    requests.py    what a request may carry, checked; errors as one line of JSON
    events.py      the two streams of server-sent events (a run from the page, an ablation's loss)
    models.py      the models and run logs named on the command line, loaded (nothing else is read)
    views.py       what each view shows, as JSON data computed by the library (score, trace, sample)
    live.py        training from the page: one run at a time, its events streamed, saved atomically
    report.py      the page and its answers as one self-contained HTML file (`microgpt report`)
    embeddings.py  wte projected to 2-D (PCA) and wpe's position similarity, in pure Python
    backprop.py    the worked example L = a*b + a, backward() taken one node at a time
    static/        the page: index.html, explore.js, explore.css (no build step, no network)

The JSON API is documented in docs/explore.md.
"""
