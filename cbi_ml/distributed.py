"""Where independent fits run: one after another in this process, or as Ray tasks on a cluster.

A backtest is refits x members x horizons of independent fits; a retrain is members x horizons x folds. Callers
describe each fit as a picklable call and hand the list to `run_all`, which yields `(index, result)` as fits
finish. Without a Ray address the calls run serially here, in order. With one (`CBI_RAY_ADDRESS` or
`--ray-address`: `auto` for a running cluster, `local` to start one in this process, or `ray://host:port`), each
call is a Ray task with resource hints, and at most `fits_per_node` AutoGluon fits run at once on any node
(a custom resource every node advertises; see docs/scale_out.md). Results are the same either way: every fit
takes its seed from the configuration and its thread count from `cpus_per_fit`, never from the machine it
lands on.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

log = logging.getLogger(__name__)

RAY_ADDRESS_ENV = "CBI_RAY_ADDRESS"
#: The custom Ray resource that bounds concurrent AutoGluon fits per node (`ray start --resources`).
FIT_SLOT = "cbi_fit_slot"
#: Arguments larger than this go to Ray's object store once and are shared by every task that takes them.
SHARE_BYTES = 1 << 20
_connecting = threading.Lock()  # dbt runs Python models in threads: one of them starts or joins the cluster


@dataclass(frozen=True)
class RayResources:
    """Resource hints of one fit task. Environment overrides: CBI_RAY_CPUS_PER_FIT, CBI_RAY_MEMORY_GB_PER_FIT,
    CBI_RAY_FITS_PER_NODE (the latter only for a cluster this process starts with `local`)."""

    cpus_per_fit: float = 1.0
    memory_gb_per_fit: float = 3.0
    fits_per_node: int = 2

    @classmethod
    def from_env(cls) -> RayResources:
        default = cls()
        return cls(
            cpus_per_fit=float(os.environ.get("CBI_RAY_CPUS_PER_FIT", default.cpus_per_fit)),
            memory_gb_per_fit=float(os.environ.get("CBI_RAY_MEMORY_GB_PER_FIT", default.memory_gb_per_fit)),
            fits_per_node=int(os.environ.get("CBI_RAY_FITS_PER_NODE", default.fits_per_node)),
        )


@dataclass(frozen=True)
class Call:
    """One independent fit: `fn(*args)`; `fn` must be importable (a module-level function)."""

    fn: Callable[..., Any]
    args: tuple[Any, ...]


def ray_address(explicit: str | None = None) -> str | None:
    """The Ray address to use: `explicit`, else `$CBI_RAY_ADDRESS`, else None (run serially in-process)."""
    address = explicit if explicit is not None else os.environ.get(RAY_ADDRESS_ENV, "")
    return address.strip() or None


def run_all(
    calls: Sequence[Call], address: str | None = None, resources: RayResources | None = None
) -> Iterator[tuple[int, Any]]:
    """Run every call; yield `(position in calls, result)` as each finishes (in order when serial)."""
    if address is None:
        for i, call in enumerate(calls):
            yield i, call.fn(*call.args)
        return
    yield from _run_on_ray(calls, address, resources or RayResources.from_env())


def _connect(address: str, resources: RayResources) -> None:
    with _connecting:
        _connect_once(address, resources)


def _connect_once(address: str, resources: RayResources) -> None:
    import ray

    if ray.is_initialized():
        return
    runtime_env = {"env_vars": {k: os.environ[k] for k in ("OMP_WAIT_POLICY", "HF_HUB_OFFLINE") if k in os.environ}}
    if address == "local":
        ray.init(
            num_cpus=max(1, int(resources.fits_per_node * resources.cpus_per_fit)),
            resources={FIT_SLOT: resources.fits_per_node},
            include_dashboard=False,
            runtime_env=runtime_env,
            log_to_driver=False,
        )
    else:
        ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
    log.info("Ray cluster: %s", ray.cluster_resources())


def _remote_call(fn: Callable[..., Any], *args: Any) -> Any:
    return fn(*args)


def _frame_bytes(arg: Any) -> int:
    """Memory of a pandas DataFrame (0 for anything else)."""
    usage = getattr(arg, "memory_usage", None)
    if usage is None or not hasattr(arg, "columns"):
        return 0
    return int(usage(index=False, deep=False).sum())


def _run_on_ray(calls: Sequence[Call], address: str, resources: RayResources) -> Iterator[tuple[int, Any]]:
    import ray

    _connect(address, resources)
    options: dict[str, Any] = {
        "num_cpus": resources.cpus_per_fit,
        "memory": int(resources.memory_gb_per_fit * 1024**3),
        "max_retries": 1,
    }
    if ray.cluster_resources().get(FIT_SLOT):
        options["resources"] = {FIT_SLOT: 1}
    else:
        log.warning(
            "the Ray cluster advertises no %r resource: concurrent fits per node are bounded by CPUs only "
            "(start nodes with --resources '{\"%s\": N}')",
            FIT_SLOT,
            FIT_SLOT,
        )
    task = ray.remote(_remote_call).options(**options)
    shared: dict[int, Any] = {}  # id(arg) -> its object ref: a matrix passed to every fit is stored once

    def share(arg: Any) -> Any:
        if getattr(arg, "nbytes", 0) > SHARE_BYTES or _frame_bytes(arg) > SHARE_BYTES:
            if id(arg) not in shared:
                shared[id(arg)] = ray.put(arg)
            return shared[id(arg)]
        return arg

    # Ray resolves object refs given as top-level arguments before the task runs: `_remote_call` gets values.
    pending = {task.remote(call.fn, *map(share, call.args)): i for i, call in enumerate(calls)}
    log.info("submitted %d fits to Ray", len(pending))
    while pending:
        ready, _ = ray.wait(list(pending), num_returns=1)
        for ref in ready:
            yield pending.pop(ref), ray.get(ref)
