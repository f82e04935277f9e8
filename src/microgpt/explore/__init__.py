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
    static/        the page: index.html, explore.css and ES modules (no build step, no network)

The page's modules (static/*.js), loaded by index.html from main.js:

    main.js        the entry: wires the tabs, the string box and each view's controls, loads the models
    state.js       the page's state, each side's apart (side 1: the compared model); `ask`, so a
                   late answer is dropped rather than drawn over a newer one or into the other column
    api.js         asking the server (or a report's embedded answers); errors; "computing…"
    dom.js         elements, SVG, number formats
    colours.js     the colour maps (signed: blue-white-red; sequential: pale to dark) and their legends
    charts.js      bars of a distribution, lines over steps (on round ticks), heatmaps
    models.js      the model menus, the string every side reads, redrawing what depends on them
    card.js        1. the model card             read.js        2. read a string, next-character bars
    attention.js   3. attention maps             forward.js     4. inside the forward pass
    sampling.js    5. sampling step by step      embeddings.js  6. wte and wpe
    backprop.js    7. backprop node by node      ablation.js    parts switched off, on every side
    ladder.js      the ladder (--ladder)         train.js       training from the page

The JSON API is documented in docs/explore.md.
"""
