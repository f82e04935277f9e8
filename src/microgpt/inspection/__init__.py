"""Looking inside a trained model or a run, without changing it.

    provenance.py  the documents a checkpoint was trained on, found again
    score.py       how surprised the model is by a string, character by character
    trace.py       one string through the model: attention, residual stream, logit lens (model.trace)
    novelty.py     is a sample new, or a copy of a training document?
    views.py       one part of the system at a time, as text (dataset, tokenizer, ...)
    graph.py       the Value computation graph as Graphviz DOT
    diff.py        where two runs, or two models, differ (microgpt diff)
    plots/         pictures: loss curves, attention, bigram counts, next character
"""
