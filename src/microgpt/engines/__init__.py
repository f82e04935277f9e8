"""Engines: interchangeable implementations of the same GPT.

Every engine is an `Engine` (base.py, where each method's contract is written
down): the same config and named float weights in, the same names out, so a
model trained by one is sampled, scored and resumed by any other.

    engine = make_engine(name, config, weights, train_config, **options)
    loss = engine.train_step(batch, lr_t)
    loss, grads = engine.loss_and_grads(batch)
    total, count = engine.nll(batch)
    engine.weights(); engine.optimizer_state(); engine.load_optimizer_state(state)
    logits = engine.next_logits(token_id, pos_id, engine.new_cache())

`scalar` is the canonical engine: the Value autograd of autograd.py, one node per
atomic operation, exactly microgpt.py's arithmetic.
"""

import importlib

from microgpt.errors import UsageError

ENGINES = {
    "scalar": "microgpt.engines.scalar:ScalarEngine",
    "fused": "microgpt.engines.fused:FusedEngine",
    "numpy": "microgpt.engines.numpy_engine:NumpyEngine",
    "torch": "microgpt.engines.torch_engine:TorchEngine",
}


# What train, sample, score and eval use unless told: bit-identical to scalar, ~50x faster.
DEFAULT_ENGINE = "fused"


def engine_names():
    return sorted(ENGINES)


def _not_installed(name, library):
    return UsageError(f"engine {name!r} needs {library}, which is not installed; "
                      f"install it with: pip install 'microgpt[{name}]'")


def engine_class(name):
    """The class registered as `name`. The engine modules import their library
    (numpy, torch) only when an engine is built, so this works without it."""
    if not isinstance(name, str) or name not in ENGINES:
        raise UsageError(f"unknown engine {name!r:.40}; choose one of: {', '.join(engine_names())}")
    module_name, cls_name = ENGINES[name].split(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as e:
        raise _not_installed(name, getattr(e, "name", None) or str(e)) from None
    return getattr(module, cls_name)


def option_names(name):
    """The options engine `name` takes besides the config: its class's OPTIONS."""
    return tuple(engine_class(name).OPTIONS)


def engines_taking(option):
    """The names of the engines that take `option`, in engine_names() order."""
    return [name for name in engine_names() if option in option_names(name)]


def check_engine_options(engine, given, saved=None):
    """The engine options given (over those saved in a checkpoint being resumed),
    as keyword arguments for make_engine; refused for engines without them."""
    if given is not None and not isinstance(given, dict):
        raise UsageError(f"engine_options must be a dict such as {{'dtype': 'float32'}}, got {type(given).__name__}")
    given = {k: v for k, v in (given or {}).items() if v is not None}
    accepted = option_names(engine)
    for k in given:
        if k not in accepted:
            takers = " or ".join(engines_taking(k))
            raise UsageError(f"--{k.replace('_', '-')} is an option of --engine {takers}, not of {engine}")
    return {**(saved or {}), **given}


def make_engine(name, config, weights, train_config=None, **options):
    cls = engine_class(name)
    for library in cls.REQUIRES:
        try:
            importlib.import_module(library)
        except ImportError as e:
            raise _not_installed(name, getattr(e, "name", None) or library) from None
    for option in options:
        if option not in cls.OPTIONS:
            takes = f"; it takes: {', '.join(cls.OPTIONS)}" if cls.OPTIONS else "; it takes none"
            raise UsageError(f"engine {name!r} has no option {option!r}{takes}")
    return cls(config, weights, train_config, **options)
