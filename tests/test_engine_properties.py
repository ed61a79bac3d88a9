"""Properties over generated streams: idempotent, nothing lost or reordered,
untouched documents byte-identical, deterministic."""

from __future__ import annotations

from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from enginehelpers import ROLE, deployment, output, render, simple_config
from stowage.read.manifests import split

names = st.from_regex(r"[a-z][a-z0-9-]{0,10}[a-z0-9]", fullmatch=True)
labels = st.sampled_from([ROLE, {"app": "other"}, {"stowage.io/role": "pipeline"}])


@st.composite
def documents(draw: st.DrawFn) -> str:
    kind = draw(st.sampled_from(["Deployment", "Service", "ConfigMap", "Job", "comment"]))
    name = draw(names)
    if kind == "comment":
        return "# just a comment\n"
    if kind == "Service":
        return yaml.safe_dump({"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}})
    if kind == "ConfigMap":
        return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  k: 'v'  # c\n"
    doc: dict[str, Any] = deployment(name, draw(labels), replicas=1)
    if kind == "Job":
        doc = {
            "apiVersion": "batch/v1",
            "kind": "Job",
            "metadata": doc["metadata"],
            "spec": {"template": doc["spec"]["template"]},
        }
    if draw(st.booleans()):
        doc["spec"]["template"]["spec"]["nodeSelector"] = {"zone": draw(names)}
    style: dict[str, Any] = draw(st.sampled_from([{}, {"default_flow_style": True}, {"indent": 4}]))
    return str(yaml.safe_dump(doc, sort_keys=draw(st.booleans()), **style))


@st.composite
def streams(draw: st.DrawFn) -> str:
    docs = draw(st.lists(documents(), min_size=0, max_size=6))
    sep = draw(st.sampled_from(["---\n", "--- # next\n"]))
    text = "".join(sep + d for d in docs)
    return text.replace("\n", "\r\n") if draw(st.booleans()) else text


CONFIG = simple_config(nodeSelector={"dask": {"pool": "dask"}})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(streams())
def test_render_is_idempotent_order_preserving_and_byte_stable(text: str) -> None:
    first = render(text, CONFIG)
    out = output(first)
    before, after = split(text).documents, split(out).documents
    assert len(after) == len(before)
    for old, new, doc in zip(before, after, first.stream.documents, strict=True):
        if not doc.changed:
            assert new.separator + new.text == old.separator + old.text
        else:
            assert yaml.safe_load(new.text)["metadata"] == yaml.safe_load(old.text)["metadata"]
    again = render(out, CONFIG)
    assert output(again) == out
    assert not any(d.changed for d in again.stream.documents)
    assert output(render(text, CONFIG)) == out
