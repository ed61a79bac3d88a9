"""The attach stage: the plan merged into every workload a target selects.

It reads what it needs from the stream (stowage.pods.reading), collects the
workloads (stowage.pods.workloads) and attaches to them (stowage.attach.attach).
A stream with many plain workload documents is attached in two processes
(stowage.attach.halves); whenever that gives up, the stream forgets what the
attempt parsed and changed, and is attached here in one.
"""

from __future__ import annotations

from stowage.attach import halves
from stowage.attach.attach import Attachment, apply
from stowage.plan.plan import Plan
from stowage.pods.reading import carried_loader, read_everything, read_for_config
from stowage.pods.workloads import TemplateMatch, collect
from stowage.read.manifests import Stream


def attach_stream(stream: Stream, plan: Plan) -> Attachment:
    if halves.worth_trying(stream, plan.config):
        done = halves.attach_in_halves(stream, plan)
        if done is not None:
            return done
        stream.forget()  # the attempt read and changed part of it: start again from the text
    return attach_in_one(stream, plan)


def attach_in_one(stream: Stream, plan: Plan) -> Attachment:
    read_everything(stream)
    read_for_config(stream, plan.config)
    matches: list[TemplateMatch] = []
    workloads = list(collect(stream, carried_loader(stream.limits), plan.config, matches))
    return Attachment(workloads, apply(workloads, plan, stream.limits), matches)
