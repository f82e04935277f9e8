"""The one exception type the command line turns into a one-line message."""


class MicroGPTError(Exception):
    """A problem with the user's input (a file, a flag, a checkpoint).

    The CLI prints `microgpt: <message>` on stderr and exits with `exit_code`;
    it never shows a traceback for these (unless --debug).
    """

    exit_code = 1


class UsageError(MicroGPTError):
    """A flag or argument that cannot be used as given."""

    exit_code = 2
