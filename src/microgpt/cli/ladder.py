"""`microgpt ladder`: the ladder's own runner (microgpt/ladder), with the data
found as `train` finds it. The rungs are standalone scripts, so the ladder
parses its own flags; this module only registers the name for --help."""

import sys

from microgpt.errors import MicroGPTError


def register(sub):
    sub.add_parser("ladder", help="run the six rungs train0..train5 and compare them (see: microgpt ladder --help)",
                   add_help=False)


def run(argv):
    from microgpt import ladder
    from microgpt.data import resolve_data_path

    if not any(a == "--data" or a.startswith("--data=") for a in argv) and not {"-h", "--help"} & set(argv):
        try:
            argv = [*argv, "--data", str(resolve_data_path(None))]
        except MicroGPTError as e:
            print(f"microgpt ladder: error: {e}", file=sys.stderr)
            return e.exit_code
    return ladder.main(argv)
