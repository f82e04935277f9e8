"""The CPU policy of engines/cpu.py on faked machines: the thread count from the
CPUs allowed and the other programs' runnable tasks, the readings it is made
from, and the native-bfloat16 check. No timing: every input is given."""

from pathlib import Path

import pytest

from microgpt.engines import cpu
from microgpt.errors import UsageError

STAT = "cpu  1 2 3\nctxt 5\nprocs_running {}\nprocs_blocked 0\n"


@pytest.mark.parametrize("allowed,cpus,busy,count", [
    (2, 2, 0, 2),    # idle 2-core machine: both cores, none idle
    (2, 2, 0.4, 2),  # a passing task rounds away
    (2, 2, 1, 1),    # one other program busy: the free core only
    (2, 2, 2, 1),    # two others: one thread, never oversubscribed beyond it, never none
    (2, 2, 7, 1),
    (1, 2, 0, 1),    # pinned to one core: one thread even on an idle machine
    (8, 16, 0, 8),   # a container's share of a big idle machine: the share
    (16, 16, 5, 11),
    (16, 16, 15.6, 1),
])
def test_threads_are_the_free_cpus_within_those_allowed(allowed, cpus, busy, count):
    assert cpu.choose(allowed, cpus, busy).count == count


def test_the_reason_names_what_decided():
    assert cpu.choose(2, 2, 0).describe() == "2 threads (2 CPUs allowed, 0 other runnable tasks)"
    assert cpu.choose(2, 2, 2).describe() == "1 thread (2 other runnable tasks on 2 CPUs)"
    assert cpu.choose(1, 2, 1).why == "1 CPU allowed, 1 other runnable task"


def test_runnable_tasks_elsewhere_exclude_this_process():
    assert cpu.running_elsewhere(STAT.format(3), ["R", "S", "S"]) == 2
    assert cpu.running_elsewhere(STAT.format(3), ["R", "R", "R", "S"]) == 0
    assert cpu.running_elsewhere(STAT.format(1), ["R", "R"]) == 0  # read at different instants: never below 0
    assert cpu.running_elsewhere("cpu 1 2 3\n", ["R"]) is None  # no such line: no reading


def test_busy_is_the_median_of_the_readings(monkeypatch):
    """One reading that catches a passing burst does not decide."""
    readings = iter([0, 5, 0, 1, 0])
    monkeypatch.setattr(cpu, "_read", lambda path: STAT.format(next(readings)) if path == "/proc/stat" else None)
    monkeypatch.setattr(cpu, "_own_states", lambda: [])
    assert cpu.busy_now(readings=5, gap=0) == (0, "run queue")


def test_without_proc_the_load_average_is_read(monkeypatch):
    monkeypatch.setattr(cpu, "_read", lambda path: None)
    monkeypatch.setattr(cpu.os, "getloadavg", lambda: (3.0, 2.0, 1.0))
    assert cpu.busy_now(readings=3, gap=0) == (2.0, "1-minute load average")  # (this process is one of the 3)


def test_allowed_cpus_are_the_affinity_capped_by_a_cgroup_quota():
    assert cpu.allowed_cpus({0, 1, 2, 3}, "max 100000\n") == 4
    assert cpu.allowed_cpus({0, 1, 2, 3}, "150000 100000\n") == 2  # 1.5 CPUs: rounded up
    assert cpu.allowed_cpus({0, 1}, "800000 100000\n") == 2
    assert cpu.allowed_cpus({3}, "") == 1
    assert cpu.allowed_cpus({0, 1}, "garbage here\n") == 2


def test_asked_for_then_the_environment_then_the_policy(monkeypatch):
    monkeypatch.setattr(cpu, "_kept", {})
    monkeypatch.setattr(cpu, "busy_now", lambda: (1, "run queue"))
    monkeypatch.setattr(cpu, "allowed_cpus", lambda: 2)
    monkeypatch.setattr(cpu.os, "cpu_count", lambda: 2)
    assert cpu.decide(2, environ={"OMP_NUM_THREADS": "1"}) == cpu.Threads(2, "asked for")
    assert cpu.decide(None, environ={"OMP_NUM_THREADS": "1"}) == cpu.Threads(1, "OMP_NUM_THREADS")
    chosen = cpu.decide(None, environ={"OMP_NUM_THREADS": "lots"})  # not a count: the policy's
    assert chosen == cpu.Threads(1, "1 other runnable task on 2 CPUs, from the run queue")
    monkeypatch.setattr(cpu, "busy_now", lambda: (0, "run queue"))
    assert cpu.decide(None, environ={}) == chosen  # kept for KEEP_SECONDS: engines built together agree
    monkeypatch.setattr(cpu, "_kept", {})
    assert cpu.decide(None, environ={}).count == 2


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "2"])
def test_a_thread_count_that_is_not_one_is_refused(bad):
    with pytest.raises(UsageError, match="threads must be a positive integer"):
        cpu.check_threads(bad)


def test_more_threads_than_cpus_are_refused(monkeypatch):
    monkeypatch.setattr(cpu.os, "cpu_count", lambda: 2)
    cpu.check_threads(2)
    with pytest.raises(UsageError, match="more than this machine's 2 CPUs"):
        cpu.check_threads(3)


@pytest.mark.parametrize("text,native", [
    ("processor\t: 0\nflags\t\t: fpu sse avx512f avx512_bf16 avx512_vnni\n", True),   # AMD Zen 4, Cooper Lake
    ("processor\t: 0\nflags\t\t: fpu sse avx2 amx_bf16 amx_tile\n", True),            # Sapphire Rapids
    ("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f avx512bw avx512_vnni\n", False),  # AVX-512 without BF16
    ("processor\t: 0\nFeatures\t: fp asimd sve bf16 i8mm\n", True),                    # Arm with BF16
    ("processor\t: 0\nFeatures\t: fp asimd evtstrm crc32\n", False),
    ("model name\t: bf16 in a name is not a flag\n", False),
    ("", False),                                                                       # nothing to read
])
def test_native_bfloat16_is_read_from_the_cpu_flags(text, native):
    assert cpu.native_bfloat16(text) is native


def test_this_machine_gives_a_reading():
    """The real readings on this machine: a count within what it has, a reason."""
    busy, how = cpu.busy_now(readings=2, gap=0)
    assert busy >= 0 and how
    assert 1 <= cpu.allowed_cpus() <= (cpu.os.cpu_count() or 1)


def test_openblas_threads_are_set_through_its_own_setter():
    """numpy's OpenBLAS, already loaded, takes the count: read back with its own getter."""
    import ctypes

    pytest.importorskip("numpy")
    maps = Path("/proc/self/maps")
    libs = sorted({line.split()[-1] for line in maps.read_text().splitlines() if "openblas" in line.lower()}) \
        if maps.exists() else []
    getters = [getattr(ctypes.CDLL(lib), name.replace("set", "get"), None) for lib in libs for name in cpu.BLAS_SETTERS]
    getters = [g for g in getters if g is not None]
    if not getters:
        pytest.skip("numpy here is not built on OpenBLAS")
    before = getters[0]()
    try:
        for count in (1, min(2, cpu.os.cpu_count() or 1), 1):
            assert cpu.set_blas_threads(count) is True
            assert getters[0]() == count
    finally:
        cpu.set_blas_threads(before)
