"""Coverage-guided fuzzing of the whole pipeline with atheris: `make fuzz`.

Input bytes become a manifest stream (and pick whether a config targets it);
stowage must render it or refuse it with a UsageError. Anything else is a crash
that atheris reports with the input; every crash found becomes a regression
test in tests/test_reliability.py. The seed corpus is tests/fuzz/corpus.

Usage: python tests/fuzz/fuzz_render.py [-atheris_runs=N] [-runs=N] [corpus dirs...]
"""

from __future__ import annotations

import sys

import atheris

with atheris.instrument_imports():
    from stowage.engine import Options, run
    from stowage.errors import UsageError
    from stowage.layers import Layer
    from stowage.read import manifests
    from stowage.read.yamlload import Limits
    from stowage.write.stream import write

CONFIG = Layer(
    "fuzz",
    {
        "persistence": {
            "data": {
                "a": {"mountPath": "/a", "existingClaim": "a", "accessModes": ["ReadWriteOnce"]}
            },
            "outputs": {"o": {"mountPath": "/o", "nfs": {"server": "s", "path": "/o"}}},
        },
        "targets": {"all": {"matchLabels": {"app": "dask"}}},
        "securityContext": {"enabled": True},
    },
)
LIMITS = Limits(max_input_bytes=1 << 20, max_nodes=100_000)


def test_one_input(data: bytes) -> None:
    provider = atheris.FuzzedDataProvider(data)
    with_config = provider.ConsumeBool()
    # Half the inputs go through rapidyaml (stowage.read.yamlfast), whatever their length.
    manifests.FAST_LOAD_MIN_DOCUMENTS = 1 if provider.ConsumeBool() else 1 << 30
    text = provider.ConsumeUnicodeNoSurrogates(len(data))
    try:
        outcome = run(text, Options(layers=[CONFIG] if with_config else [], limits=LIMITS))
        write(outcome.stream)
    except UsageError:
        pass


def main() -> None:
    atheris.Setup(sys.argv, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
