"""The plan as native admission policies: pure functions from a Plan to policy objects.

`stowage admission` prints them and the post-renderer adds them to a release whose plan
says `admission.enabled`: one MutatingAdmissionPolicy per target (what attach gives that
target's workloads, applied to its pods at CREATE) and one ValidatingAdmissionPolicy
(SW101 on the workloads, and the problems the mutation found on pods). See
docs/admission.md. Nothing here imports from engine, views or cli.
"""
