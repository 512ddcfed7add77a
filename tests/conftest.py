import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _stop_on_sigterm(signum, _frame):
    # A test run stopped with SIGTERM (a CI timeout, `kill`) unwinds like Ctrl-C: the fixtures' cleanup (lab
    # machines, network namespaces, mounts, cgroups) runs instead of the interpreter dying on the spot.
    raise KeyboardInterrupt(f"stopped by signal {signum}")


signal.signal(signal.SIGTERM, _stop_on_sigterm)
