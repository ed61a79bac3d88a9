"""What keeps a large run fast: the CLI turns the garbage collector off for a run
(stowage/cli/main.py), which is safe only while a run makes no reference cycles per
workload; every cycle would stay in memory until exit."""

from __future__ import annotations

import gc

from enginehelpers import ROLE, deployment, dump_all, simple_config
from stowage.engine import Options, run
from stowage.layers import Layer
from stowage.write.stream import write


def cyclic_garbage_of_a_run(workloads: int) -> int:
    config = simple_config(vars={"TEAM": "ml"})
    config["persistence"]["data"]["a"]["mountPath"] = "/data/${TEAM}"  # expand() runs
    text = dump_all(*(deployment(f"w{i}", ROLE) for i in range(workloads)))
    gc.collect()
    gc.disable()
    try:
        outcome = run(text, Options(layers=[Layer("test", config)]))
        write(outcome.stream)
        del outcome
        return gc.collect()
    finally:
        gc.enable()


def test_a_run_makes_no_reference_cycles_per_workload() -> None:
    small, large = cyclic_garbage_of_a_run(10), cyclic_garbage_of_a_run(200)
    assert large - small < 50, (small, large)  # a closure cycle per workload made 60 each
