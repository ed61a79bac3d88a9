"""Owl (owl-pipeline-server ``charts/owl`` values) -> stowage chart values.

Key names follow the owl-pipeline-server chart: ``pipeline.extraVolumes`` /
``extraVolumeMounts`` (copied into the pipeline pod and the per-pipeline Dask
scheduler and workers), top-level ``extraVolumes`` / ``extraVolumeMounts``
(every Owl pod), ``scheduler.*`` and ``api.*`` (the two Deployments), ``pvchome``
(older charts: ``pvc``) for the state claim the scheduler and API mount at
``/var/run/owl``, the server settings of owl.yaml (``loglevel``, ``heartbeat``,
``prometheus``, ``dbi``, ``token``), ``extraEnv``, ``serviceAccount``,
``podSecurityContext`` / ``securityContext`` and ``image``.

Per-user storage in Owl's documented shapes (a hostPath ``/storage/${USER}``
of type Directory, or the claim ``nfs-storage-${USER}``) becomes
``userStorage``; anything else is carried over verbatim. A mount naming no
volume (Owl's own NFS example) is reported as a problem and carried over
unchanged, never fixed silently.
"""

from __future__ import annotations

from typing import Any

from stowage.importers.base import (
    Draft,
    Imported,
    ImportInputError,
    expect_list,
    expect_map,
    join,
    without_default_storage,
)

STATE_PATH = "/var/run/owl"
STATE_CLAIM = "owl-home"
USER_VAR = "${USER}"
NFS_CLAIM = "nfs-storage-${USER}"
SQLITE_PREFIX = f"sqlite:///{STATE_PATH}/"
CHART_DBI = f"{SQLITE_PREFIX}sqlite.db"
OWL_DASK_DEFAULT = {"distributed": {"worker": {"daemon": False}}}
LOGLEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
NOT_STOWAGE = {
    "replicaCount": "Owl runs one scheduler and one API: they share the SQLite state, so the "
    "chart runs one of each",
    "autoscaling": "Owl runs one scheduler and one API: they share the SQLite state",
    "service": "the chart's API Service listens on 8002 (Owl's API port); its type is "
    "api.service.type",
    "ingress": "not modelled: point your Ingress at the Service <release>-stowage-api, port 8002",
}
EXTRAS = ("extraVolumes", "extraVolumeMounts")
RUN_COMPONENTS = ("scheduler", "api", "pipeline", "dask")


def import_owl(data: dict[str, Any]) -> Imported:
    draft = Draft("owl")
    _state(draft, data)
    _extras(draft, data)
    _security(draft, data)
    _scheduler(draft, expect_map(data.get("scheduler"), "scheduler"), data)
    _api(draft, expect_map(data.get("api"), "api"))
    _pipeline_other(draft, expect_map(data.get("pipeline"), "pipeline"))
    _image(draft, data)
    _server(draft, data)
    _extra_env(draft, data)
    _service_account(draft, expect_map(data.get("serviceAccount"), "serviceAccount"))
    without_default_storage(draft, "Owl")
    for key, value in (("dataRefs", []), ("outputs", False)):
        if not draft.has(("api", key)):
            draft.put(("api", key), value, note="like the scheduler: Owl mounted no shared storage")
    handled = {
        "pvchome",
        "pvc",
        "dbi",
        "token",
        "loglevel",
        "heartbeat",
        "prometheus",
        "dask",
        "extraEnv",
        "serviceAccount",
        "api",
        "pipeline",
        "scheduler",
        "tolerations",
        "podSecurityContext",
        "securityContext",
        "image",
        "nameOverride",
        "fullnameOverride",
        *EXTRAS,
    }
    for key in data:
        if key not in handled:
            draft.skip(key, NOT_STOWAGE.get(key, "not a setting the chart models"))
    return draft.result()


# --- scheduler state ----------------------------------------------------------------


def _state(draft: Draft, data: dict[str, Any]) -> None:
    target = ("persistence", "scheduler")
    draft.put(
        (*target, "mountPath"),
        STATE_PATH,
        note="Owl 0.8.3 always keeps pipeline logs and run configs here",
    )
    draft.put(
        (*target, "existingClaim"),
        STATE_CLAIM,
        note="the claim Owl's scheduler and API mount: reusing it keeps the database and logs. "
        "Annotate it helm.sh/resource-policy=keep before uninstalling Owl; delete this line "
        "to start on a new claim sized below",
    )
    for key in ("pvchome", "pvc"):
        if key in data:
            _state_claim(draft, key, expect_map(data[key], key))
    _dbi(draft, data)


def _state_claim(draft: Draft, key: str, pvc: dict[str, Any]) -> None:
    target = ("persistence", "scheduler")
    fields = {
        "storage": "size",
        "storageClassName": "storageClassName",
        "accessModes": "accessModes",
    }
    for name, value in pvc.items():
        where = join(key, name)
        if name in fields:
            draft.put((*target, fields[name]), value, where)
        elif not value:
            draft.empty(where)
        else:
            draft.skip(
                where,
                "claim annotations and selectors are not modelled: stowage sets "
                "helm.sh/resource-policy: keep on the claims it creates",
            )


def _dbi(draft: Draft, data: dict[str, Any]) -> None:
    dbi = data.get("dbi")
    if dbi is None:
        return
    if dbi == CHART_DBI:
        draft.note(
            ("persistence", "scheduler", "mountPath"),
            "dbi",
            note="the chart's owl.yaml keeps SQLite at <mountPath>/sqlite.db, as Owl did",
        )
    elif isinstance(dbi, str) and dbi:
        draft.put(("owl", "dbi"), dbi, "dbi", note="Owl's database, as it was")
    else:
        draft.empty("dbi")


def _server(draft: Draft, data: dict[str, Any]) -> None:
    """owl.yaml's server settings; the token stays out of values."""
    loglevel = data.get("loglevel")
    if loglevel in LOGLEVELS:
        draft.put(("owl", "loglevel"), loglevel, "loglevel")
    elif loglevel is not None:
        draft.skip("loglevel", f"Owl accepts only {', '.join(LOGLEVELS)}")
    if "heartbeat" in data:
        draft.put(("owl", "heartbeat"), data["heartbeat"], "heartbeat")
    if data.get("prometheus"):
        draft.put(("owl", "prometheus"), data["prometheus"], "prometheus")
    elif "prometheus" in data:
        draft.empty("prometheus")
    token = data.get("token")
    if isinstance(token, str) and token:
        draft.skip(
            "token",
            "the chart never keeps the token in values: it generates one Secret on install and "
            "keeps it. To keep this token, store it (kubectl create secret generic owl-api-token "
            "--from-literal=token=...) and set owl.token.existingSecret: owl-api-token",
        )
    elif "token" in data:
        draft.empty("token")
    dask = data.get("dask")
    if dask == OWL_DASK_DEFAULT:
        draft.skip("dask", "nothing to carry over: the chart's dask-config ConfigMap is the same")
    elif dask:
        draft.skip(
            "dask",
            "Dask's own settings for pipeline runs: the chart's dask-config ConfigMap carries "
            "Owl's default (distributed.worker.daemon: false) only",
        )


def _extra_env(draft: Draft, data: dict[str, Any]) -> None:
    extra = data.get("extraEnv")
    if not extra:
        if "extraEnv" in data:
            draft.empty("extraEnv")
        return
    items = expect_list(extra, "extraEnv")
    for component in RUN_COMPONENTS:
        draft.put((component, "extraEnv"), items, "extraEnv", note="Owl set it on every pod")


def _service_account(draft: Draft, account: dict[str, Any]) -> None:
    if account.get("name"):
        draft.put(("serviceAccount", "name"), account["name"], "serviceAccount.name")
        if account.get("create") is False:
            draft.put(
                ("serviceAccount", "create"),
                False,
                "serviceAccount.create",
                note="your account must be allowed to create Jobs, pods, services and "
                "PodDisruptionBudgets (see the chart's Role)",
            )
    elif account:
        draft.skip(
            "serviceAccount",
            "the chart creates the account with the Role Owl needs (Owl's pods without one "
            "ran as the namespace's default account, which cannot start pipelines)",
        )


# --- extra volumes and per-user storage ---------------------------------------------------


def _list(data: dict[str, Any], key: str, where: str) -> list[dict[str, Any]]:
    items = expect_list(data.get(key) or None, where)
    for index, item in enumerate(items):
        if not isinstance(item, dict) or not isinstance(item.get("name"), str):
            raise ImportInputError(join(where, index), "expected a map with a name")
    return items


def _extras(draft: Draft, data: dict[str, Any]) -> None:
    pipeline = expect_map(data.get("pipeline"), "pipeline")
    scheduler = expect_map(data.get("scheduler"), "scheduler")
    shared = _sourced(data, "")
    mine = _sourced(pipeline, "pipeline")
    api = expect_map(data.get("api"), "api")
    sched = _sourced(scheduler, "scheduler")
    own_api = _sourced(api, "api")
    sources = ((data, ""), (pipeline, "pipeline"), (scheduler, "scheduler"), (api, "api"))
    for source, prefix in sources:
        _empties(draft, source, prefix)
    pipe_ok = _names_match(draft, "pipeline", shared, mine)
    _names_match(draft, "scheduler", shared, sched)
    _names_match(draft, "api", shared, own_api)
    if pipe_ok:
        mine = _user_storage(draft, mine)
    for kind in EXTRAS:
        _emit(draft, "scheduler", kind, shared[kind] + sched[kind])
        _emit(draft, "api", kind, shared[kind] + own_api[kind])
        # Owl's chart copies the pipeline's extras into each run's Dask pods too
        _emit(draft, "pipeline", kind, shared[kind] + mine[kind])
        _emit(draft, "dask", kind, shared[kind] + mine[kind])


Sourced = dict[str, list[tuple[str, dict[str, Any]]]]


def _sourced(data: dict[str, Any], prefix: str) -> Sourced:
    out: Sourced = {}
    for kind in EXTRAS:
        where = join(prefix, kind)
        out[kind] = [(join(where, i), item) for i, item in enumerate(_list(data, kind, where))]
    return out


def _empties(draft: Draft, data: dict[str, Any], prefix: str) -> None:
    for kind in EXTRAS:
        if kind in data and not data[kind]:
            draft.empty(join(prefix, kind))


def _names_match(draft: Draft, component: str, shared: Sourced, own: Sourced) -> bool:
    volumes = [item["name"] for _, item in shared["extraVolumes"] + own["extraVolumes"]]
    ok = True
    for where, mount in shared["extraVolumeMounts"] + own["extraVolumeMounts"]:
        if mount["name"] in volumes:
            continue
        ok = False
        others = ", ".join(volumes) or "none"
        draft.problem(
            join(where, "name"),
            f"the {component} mount {mount['name']!r} at {mount.get('mountPath')} names no "
            f"volume (volumes: {others}); Kubernetes rejects such a pod and stowage refuses it "
            "at render time (mount references an undefined volume)",
            f"give the mount and its volume the same name, e.g. rename the mount to "
            f"{volumes[0]!r} or the volume to {mount['name']!r}"
            if len(volumes) == 1
            else "give the mount the name of the volume it should use",
        )
    return ok


def _user_storage(draft: Draft, own: Sourced) -> Sourced:
    """Turn one per-user volume in Owl's documented shape into userStorage."""
    for v_where, volume in own["extraVolumes"]:
        kind = _per_user_kind(volume)
        mounts = [(w, m) for w, m in own["extraVolumeMounts"] if m["name"] == volume["name"]]
        if kind is None or len(mounts) != 1 or set(mounts[0][1]) != {"name", "mountPath"}:
            continue
        m_where, mount = mounts[0]
        draft.put(("userStorage", "type"), kind, v_where, note="Owl's per-user storage shape")
        draft.put(
            ("userStorage", "mountPath"),
            mount["mountPath"],
            m_where,
            note=f"the chart names its volume and mount user-storage (was {volume['name']})",
        )
        if kind == "hostPath":
            draft.put(
                ("userStorage", "hostPath"), volume["hostPath"]["path"], f"{v_where}.hostPath.path"
            )
        else:
            draft.put(
                ("users",),
                [],
                f"{v_where}.persistentVolumeClaim.claimName",
                note="your nfs-storage-<user> claims stay as they are; list users and set "
                "userStorage.nfs.server to have the chart create them",
            )
        draft.note(
            ("userStorage", "type"),
            note="it reaches each run's pipeline and Dask pods, as in Owl",
        )
        return {
            "extraVolumes": [e for e in own["extraVolumes"] if e[0] != v_where],
            "extraVolumeMounts": [e for e in own["extraVolumeMounts"] if e[0] != m_where],
        }
    return own


def _per_user_kind(volume: dict[str, Any]) -> str | None:
    keys = set(volume) - {"name"}
    if keys == {"hostPath"}:
        host = volume["hostPath"]
        ok = isinstance(host, dict) and set(host) == {"path", "type"}
        if ok and host["type"] == "Directory" and USER_VAR in str(host["path"]):
            return "hostPath"
    if keys == {"persistentVolumeClaim"}:
        claim = volume["persistentVolumeClaim"]
        if isinstance(claim, dict) and claim == {"claimName": NFS_CLAIM}:
            return "nfs"
    return None


def _emit(draft: Draft, component: str, kind: str, items: list[tuple[str, Any]]) -> None:
    if not items:
        return
    draft.put((component, kind), [item for _, item in items], note="verbatim")
    for index, (where, _) in enumerate(items):
        draft.note((component, kind, index), where)


# --- security context ----------------------------------------------------------------------


def _security(draft: Draft, data: dict[str, Any]) -> None:
    pod = expect_map(data.get("podSecurityContext"), "podSecurityContext")
    box = expect_map(data.get("securityContext"), "securityContext")
    user = _first(("securityContext", box, "runAsUser"), ("podSecurityContext", pod, "runAsUser"))
    fs_group = _first(("podSecurityContext", pod, "fsGroup"))
    run_group = _first(
        ("securityContext", box, "runAsGroup"), ("podSecurityContext", pod, "runAsGroup")
    )
    group = fs_group or run_group
    if user is None and group is None:
        _rest_of_security(draft, pod, box, set())
        return
    draft.put(("securityContext", "enabled"), True, note="Owl ran its pods with these ids")
    used: set[str] = set()
    if user is not None:
        draft.put(("securityContext", "user"), user[1], user[0])
        used.add(user[0])
    if group is not None:
        note = "runAsGroup and fsGroup: mounted volumes belong to it"
        draft.put(("securityContext", "group"), group[1], group[0], note=note)
        used.add(group[0])
    if fs_group and run_group and fs_group[1] != run_group[1]:
        draft.skip(
            run_group[0],
            f"stowage uses one group for runAsGroup and fsGroup; carried over fsGroup "
            f"{fs_group[1]} (it decides who owns mounted volumes)",
        )
        used.add(run_group[0])
    elif run_group:
        draft.note(("securityContext", "group"), run_group[0])
        used.add(run_group[0])
    _rest_of_security(draft, pod, box, used)


def _first(*candidates: tuple[str, dict[str, Any], str]) -> tuple[str, Any] | None:
    for prefix, source, key in candidates:
        if source.get(key) is not None:
            return f"{prefix}.{key}", source[key]
    return None


def _rest_of_security(
    draft: Draft, pod: dict[str, Any], box: dict[str, Any], used: set[str]
) -> None:
    for prefix, source in (("podSecurityContext", pod), ("securityContext", box)):
        for key, value in source.items():
            where = f"{prefix}.{key}"
            if where in used:
                continue
            if key == "runAsNonRoot" and value is True:
                draft.note(("securityContext",), where, note="stowage sets runAsNonRoot too")
            else:
                draft.skip(
                    where,
                    "stowage sets its own hardened context (runAsNonRoot, no privilege "
                    "escalation, all capabilities dropped, RuntimeDefault seccomp)",
                )


# --- scheduling, resources, image ------------------------------------------------------------


def _scheduler(draft: Draft, scheduler: dict[str, Any], data: dict[str, Any]) -> None:
    for key in ("nodeSelector", "affinity"):
        if key in scheduler:
            _pool(draft, key, f"scheduler.{key}", expect_map(scheduler[key], f"scheduler.{key}"))
    tolerations = [
        (where, expect_list(value, where))
        for where, value in (
            ("scheduler.tolerations", scheduler.get("tolerations")),
            ("tolerations", data.get("tolerations")),
        )
        if value is not None
    ]
    merged: list[Any] = []
    for where, items in tolerations:
        if not items:
            draft.empty(where)
            continue
        merged += [t for t in items if t not in merged]
        draft.note(("tolerations", "core"), where)
    if merged:
        draft.put(("tolerations", "core"), merged, note="Owl's scheduler Deployment")
    if "resources" in scheduler:
        draft.put(("scheduler", "resources"), scheduler["resources"], "scheduler.resources")
    for key in scheduler:
        if key not in ("nodeSelector", "affinity", "tolerations", "resources", *EXTRAS):
            draft.skip(f"scheduler.{key}", "not a storage or scheduling setting stowage models")


def _api(draft: Draft, api: dict[str, Any]) -> None:
    if "resources" in api:
        draft.put(("api", "resources"), api["resources"], "api.resources")
    for key in ("nodeSelector", "tolerations", "affinity"):
        if not api.get(key):
            if key in api:
                draft.empty(f"api.{key}")
            continue
        draft.skip(
            f"api.{key}",
            "the chart pins the API to the scheduler's node (they share the ReadWriteOnce "
            "state claim), so the API follows the core pool",
        )
    for key in api:
        if key not in ("nodeSelector", "affinity", "tolerations", "resources", *EXTRAS):
            draft.skip(f"api.{key}", "not a setting the chart models")


def _pool(draft: Draft, field: str, where: str, value: dict[str, Any]) -> None:
    if value:
        draft.put((field, "core"), value, where, note="the core pool holds the scheduler")
    else:
        draft.empty(where)


def _pipeline_other(draft: Draft, pipeline: dict[str, Any]) -> None:
    if "resources" in pipeline:
        draft.put(("pipeline", "resources"), pipeline["resources"], "pipeline.resources")
    for key in pipeline:
        if key not in ("resources", *EXTRAS):
            draft.skip(
                f"pipeline.{key}",
                "the owl chart does not apply it to pipeline pods, so neither does stowage",
            )


def _image(draft: Draft, data: dict[str, Any]) -> None:
    for key in ("nameOverride", "fullnameOverride"):
        if key in data:
            draft.put((key,), data[key], key)
    image = expect_map(data.get("image"), "image")
    fields = {"repository": "repository", "tag": "tag", "pullPolicy": "pullPolicy"}
    if "repository" in image and "tag" not in image:
        draft.skip(
            "image",
            "no image.tag (Owl used its chart's appVersion): set image.platform by hand",
        )
        return
    for key, value in image.items():
        if key in fields:
            draft.put(("image", "platform", fields[key]), value, f"image.{key}")
        else:
            draft.skip(f"image.{key}", "not an image setting stowage models")
