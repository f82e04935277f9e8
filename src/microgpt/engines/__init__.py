"""Engines: interchangeable implementations of the same GPT.

Every engine takes the same config and the same named float weights (the
checkpoint's), and gives back the same names, so a model trained by one is
sampled, scored and resumed by any other. What an engine provides:

    engine = make_engine(name, config, weights, train_config)
    loss = engine.train_step(batch, lr_t)   # batch: token lists [BOS, ..., BOS];
                                            # forward, backward, optimizer step;
                                            # returns the mean loss over real tokens
    engine.weights()                        # {name: [[float, ...], ...]}
    engine.optimizer_state() / engine.load_optimizer_state(state)
    engine.nll(batch)                       # (sum of -log p, token count), no gradients
    cache = engine.new_cache()
    logits = engine.next_logits(token_id, pos_id, cache)   # one position, KV-cached

`scalar` is the canonical engine: the Value autograd of autograd.py, one node per
atomic operation, exactly microgpt.py's arithmetic.
"""

from microgpt.errors import UsageError

ENGINES = {
    "scalar": "microgpt.engines.scalar:ScalarEngine",
    "fused": "microgpt.engines.fused:FusedEngine",
    "numpy": "microgpt.engines.numpy_engine:NumpyEngine",
    "torch": "microgpt.engines.torch_engine:TorchEngine",
}

# Options an engine takes besides the config: the CLI's --device, --dtype, ... (see
# cli.add_engine_options), passed to make_engine only for engines listed here.
ENGINE_OPTIONS = {
    "numpy": ("dtype",),
    "torch": ("device", "dtype", "compile", "grad_clip"),
}


def engine_names():
    return sorted(ENGINES)


def make_engine(name, config, weights, train_config=None, **options):
    if name not in ENGINES:
        raise UsageError(f"unknown engine {name!r}; choose one of: {', '.join(engine_names())}")
    module_name, cls_name = ENGINES[name].split(":")
    import importlib

    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        missing = getattr(e, "name", None) or str(e)
        raise UsageError(
            f"engine {name!r} needs {missing}, which is not installed; "
            f"install it with: pip install 'microgpt[{name}]'"
        ) from None
    return getattr(module, cls_name)(config, weights, train_config, **options)


def option_names(name):
    return ENGINE_OPTIONS.get(name, ())


def engines_taking(option):
    return [e for e, opts in ENGINE_OPTIONS.items() if option in opts]
