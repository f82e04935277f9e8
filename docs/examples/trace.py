# model.trace(text): everything a "look inside" view shows about one string, in one pass.
import microgpt

model = microgpt.Model.of(microgpt.train(steps=200, seed=1))  # on the bundled names
t = model.trace("emma")
print(t.tokens)
print(t.total == model.score("emma").total, round(t.total, 4), round(t.perplexity, 2))
p = t.positions[1]                                 # reading 'e', predicting 'm'
print(round(p.p_next, 4), round(p.surprise, 3))    # p.probs: the whole distribution
print([round(w, 3) for w in p.attention[0][0]])    # layer 0, head 0, over BOS and 'e'
for q in p.stream:                                 # the residual stream, point by point
    scale = None if q.norm_scale is None else round(q.norm_scale, 3)
    print(f"{q.name:<11} |x|={q.norm:6.3f} scale={scale}  lens: {[(d['token'], round(d['p'], 3)) for d in q.lens[:3]]}")
print(f"{len(p.mlp[0].active)} of {len(p.mlp[0].hidden)} neurons fired in layer 0")
