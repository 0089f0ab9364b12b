#!/usr/bin/env python3
"""dbt, tied to the process that starts it: the orchestration's `dbt_executable` (`orchestration.assets.dbt`).

On Linux it asks the kernel (prctl PR_SET_PDEATHSIG) to kill it when its parent ends, however the parent ends
(`kill -9` included), then execs the real dbt named by `CBI_DBT_EXECUTABLE`: a killed `cbi run` leaves no dbt
behind writing the warehouse. Standard library only (any python3 runs it).
"""

import ctypes
import os
import signal
import sys

PR_SET_PDEATHSIG = 1
DBT_ENV = "CBI_DBT_EXECUTABLE"


def main() -> None:
    parent = os.getppid()
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
            sys.exit(f"dbt_child: prctl failed (errno {ctypes.get_errno()})")
        if os.getppid() != parent:  # the parent ended before the request took effect
            sys.exit(1)
    dbt = os.environ.get(DBT_ENV, "")
    if not dbt:
        sys.exit(f"dbt_child: {DBT_ENV} is not set")
    os.execv(dbt, [dbt, *sys.argv[1:]])


if __name__ == "__main__":
    main()
