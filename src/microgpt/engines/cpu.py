"""What this CPU gives a run: how many threads to use, and whether bfloat16 is native.

Threads. A tensor step on a CPU can use every core, but a core that another
program is using is not free: two threads on a machine whose other core is busy
spend most of their time waiting for each other (measured on the project's
2-core machine under load: one thread was 3.5-10x faster than two for models up
to 256 wide). On an idle machine the opposite holds: one thread leaves half of a
2-core machine unused (nanoGPT, on PyTorch's default of every core, was 1.5x
faster than microgpt on one thread). So the count is chosen at start from

    allowed  the CPUs this process may run on (os.sched_getaffinity, capped by a
             cgroup's CPU quota where one is set: a container's share)
    busy     the runnable tasks of other processes right now: /proc/stat's
             procs_running, less this process's own running threads, the median
             of a few readings (the 1-minute load average lags by a minute; it is
             the fallback where /proc is missing)

as threads = min(allowed, max(1, cpus - busy)): never more threads than cores
left free, never fewer than one, never a free core left idle. `--threads N`
(the engines' `threads` option) and OMP_NUM_THREADS, where a user set it, win.

bfloat16. Mixed precision halves a matmul's cost only where the CPU multiplies
bfloat16 natively (x86's AVX512_BF16 or AMX_BF16, Arm's BF16); elsewhere it is
emulated and slower than float32. The torch engine's default dtype on a CPU is
bfloat16 where one of those flags is in /proc/cpuinfo, float32 otherwise;
docs/performance.md has the runs that show its validation loss equal to
float32's.
"""

import ctypes
import os
import statistics
import time
from dataclasses import dataclass
from pathlib import Path

from microgpt.errors import UsageError

BUSY_READINGS = 5  # readings of the run queue, BUSY_GAP apart: one reading catches a passing task
BUSY_GAP = 0.01
KEEP_SECONDS = 30.0  # a choice is reused this long (the explorer builds engines often)
NATIVE_BF16_FLAGS = {"avx512_bf16", "amx_bf16", "bf16"}  # x86 flags, Arm's Features


@dataclass(frozen=True)
class Threads:
    """A thread count and why it was chosen, e.g. Threads(1, "asked for")."""

    count: int
    why: str

    def describe(self):
        return f"{self.count} thread{'s' if self.count != 1 else ''} ({self.why})"


def choose(allowed, cpus, busy):
    """The policy itself, on plain numbers: `allowed` CPUs this process may use,
    `cpus` on the machine, `busy` runnable tasks of other processes (a float:
    a median or a load average)."""
    free = cpus - round(busy)
    count = min(allowed, max(1, free))
    others = f"{round(busy)} other runnable task{'s' if round(busy) != 1 else ''}"
    if count == allowed:
        return Threads(count, f"{allowed} CPU{'s' if allowed != 1 else ''} allowed, {others}")
    return Threads(count, f"{others} on {cpus} CPUs")


def allowed_cpus(affinity=None, quota_text=None):
    """CPUs this process may run on: its affinity mask, capped by a cgroup v2
    quota ("max 100000" = none; "150000 100000" = 1.5 CPUs, rounded up)."""
    if affinity is None:
        affinity = os.sched_getaffinity(0) if hasattr(os, "sched_getaffinity") else range(os.cpu_count() or 1)
    n = max(1, len(affinity))
    if quota_text is None:
        quota_text = _read("/sys/fs/cgroup/cpu.max")
    fields = (quota_text or "").split()
    if len(fields) == 2 and fields[0] != "max":
        try:
            quota, period = int(fields[0]), int(fields[1])
            n = min(n, max(1, -(-quota // period)))
        except ValueError:
            pass
    return n


def running_elsewhere(stat_text, own_states):
    """Runnable tasks of other processes in one reading: /proc/stat's
    procs_running (which counts this process's running threads too) less
    `own_states`' 'R's (one state letter per thread of this process)."""
    for line in stat_text.splitlines():
        if line.startswith("procs_running "):
            return max(0, int(line.split()[1]) - sum(state == "R" for state in own_states))
    return None


def busy_now(readings=BUSY_READINGS, gap=BUSY_GAP):
    """(runnable tasks of other processes, how it was read): the median of a few
    readings of the run queue, or the 1-minute load average where there is no
    /proc; (0, ...) where neither exists."""
    values = []
    for i in range(readings):
        value = running_elsewhere(_read("/proc/stat") or "", _own_states())
        if value is None:
            break
        values.append(value)
        if i + 1 < readings:
            time.sleep(gap)
    if values:
        return statistics.median(values), "run queue"
    if hasattr(os, "getloadavg"):
        return max(0.0, os.getloadavg()[0] - 1), "1-minute load average"
    return 0, "no load reading"


def _own_states():
    """The state letter of each thread of this process (R running, S sleeping, ...)."""
    states = []
    try:
        tasks = list(Path("/proc/self/task").iterdir())
    except OSError:
        return states
    for task in tasks:
        text = _read(task / "stat")
        if text:  # "pid (comm) S ...": the state follows the last ')', comm may hold spaces and parentheses
            states.append(text.rsplit(")", 1)[-1].split()[0])
    return states


def _read(path):
    try:
        return Path(path).read_text()
    except OSError:
        return None


def check_threads(threads):
    """A thread count someone asked for: None (the policy's) or 1 .. the machine's CPUs."""
    if threads is None:
        return
    if isinstance(threads, bool) or not isinstance(threads, int) or threads < 1:
        raise UsageError(f"threads must be a positive integer, got {threads!r:.40}")
    if threads > (os.cpu_count() or 1):
        raise UsageError(f"--threads {threads} is more than this machine's {os.cpu_count()} CPUs; "
                         "more threads than CPUs only take turns")


_kept = {}  # "policy" -> (monotonic time, Threads)


def decide(requested=None, environ=None):
    """The threads for this process's tensor work: `requested` (--threads,
    threads=) if given, else a user's OMP_NUM_THREADS, else the policy."""
    environ = os.environ if environ is None else environ
    if requested is not None:
        return Threads(int(requested), "asked for")
    if environ.get("OMP_NUM_THREADS", "").isdigit() and int(environ["OMP_NUM_THREADS"]) > 0:
        return Threads(int(environ["OMP_NUM_THREADS"]), "OMP_NUM_THREADS")
    kept = _kept.get("policy")
    if kept and time.monotonic() - kept[0] < KEEP_SECONDS:
        return kept[1]
    busy, how = busy_now()
    choice = choose(allowed_cpus(), os.cpu_count() or 1, busy)
    choice = Threads(choice.count, f"{choice.why}, from the {how}")
    _kept["policy"] = (time.monotonic(), choice)
    return choice


# OpenBLAS's setter under the names its builds export (numpy's wheels ship scipy-openblas, 64-bit ints)
BLAS_SETTERS = ("openblas_set_num_threads", "scipy_openblas_set_num_threads64_", "openblas_set_num_threads64_",
                "scipy_openblas_set_num_threads_")


def set_blas_threads(count):
    """Set the thread count of the OpenBLAS that numpy has loaded, through its own
    setter (BLAS reads its environment only when loaded, which has happened by
    now). False where no OpenBLAS is loaded (another BLAS, or no /proc)."""
    maps = _read("/proc/self/maps") or ""
    paths = {line.split()[-1] for line in maps.splitlines() if "openblas" in line.lower() and "/" in line}
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for name in BLAS_SETTERS:
            setter = getattr(lib, name, None)
            if setter is not None:
                setter(int(count))
                return True
    return False


def native_bfloat16(cpuinfo_text=None):
    """Whether this CPU multiplies bfloat16 natively: one of NATIVE_BF16_FLAGS
    among /proc/cpuinfo's flags (x86) or features (Arm). False where there is
    no /proc/cpuinfo: nothing shows it."""
    if cpuinfo_text is None:
        cpuinfo_text = _read("/proc/cpuinfo") or ""
    for line in cpuinfo_text.splitlines():
        key, _, value = line.partition(":")
        if key.strip().lower() in ("flags", "features") and NATIVE_BF16_FLAGS & set(value.split()):
            return True
    return False
