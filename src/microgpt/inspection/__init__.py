"""Looking inside a trained model or a run, without changing it.

    score.py        how surprised the model is by a string, character by character
    trace.py        one string through the model: attention, residual stream, logit lens (model.trace)
    novelty.py      is a sample new, or a copy of a training document?
    part_views.py   one part of the system at a time, as text (dataset, tokenizer, ...)
    value_graph.py  the Value computation graph as Graphviz DOT
    differences.py  where two runs, or two models, differ (microgpt diff)
    plots/          pictures: loss curves, attention, bigram counts, next character

The training data a checkpoint was trained on is found again by provenance.py,
one folder up: training and evaluation need it too.
"""
