import io

from microgpt.progress import Progress, format_duration


def test_terminal_bar_redraws_one_line():
    out = io.StringIO()
    p = Progress(3, stream=out, tty=True)
    for step in (1, 2, 3):
        p.update(step, 2.5, tokens=10)
    text = out.getvalue()
    assert text.startswith("\rstep 1/3") and text.endswith("\n") and text.count("\n") == 1
    assert "loss 2.5000" in text and "tok/s" in text and "eta" in text


def test_plain_lines_when_not_a_terminal():
    out = io.StringIO()
    p = Progress(2, stream=out, tty=False)
    p.update(1, 3.36604, tokens=5, lr=0.01)
    p.update(2, 3.1, tokens=5, lr=0.005)
    lines = out.getvalue().splitlines()
    assert lines[0].startswith("step    1 /    2 | loss 3.3660 | lr 0.010000")
    assert len(lines) == 2 and "\r" not in out.getvalue()


def test_format_duration():
    assert [format_duration(s) for s in (5, 65, 3725)] == ["5s", "1m05s", "1h02m"]


def test_a_delayed_bar_draws_nothing_until_its_delay_has_passed():
    out = io.StringIO()
    p = Progress(3, stream=out, tty=True, label="val", lines=False, delay=60)
    for step in (1, 2, 3):
        p.update(step, 2.5)
    p.close()
    assert out.getvalue() == "" and not p.drawn


def test_a_bar_below_another_keeps_its_line():
    """below=True: the first draw starts a new line (the training bar's stays); close()
    ends only a line the bar still holds."""
    out = io.StringIO()
    p = Progress(2, stream=out, tty=True, label="val", lines=False, below=True)
    p.update(1, 2.5)
    assert out.getvalue().startswith("\n\rval 1/2") and p.holds_line
    p.update(2, 2.4)
    assert out.getvalue().count("\n") == 2 and not p.holds_line
    p.close()
    assert out.getvalue().count("\n") == 2  # the bar had ended its line: nothing more
