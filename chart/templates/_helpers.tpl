{{/* Names: stable, derived from the release, never from values that change. */}}
{{- define "stowage.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stowage.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "stowage.selectorLabels" -}}
app.kubernetes.io/name: {{ include "stowage.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component }}
{{- end -}}

{{/* Labels of a workload: standard labels plus the role the post-renderer reads. */}}
{{- define "stowage.labels" -}}
{{ include "stowage.selectorLabels" . }}
helm.sh/chart: {{ printf "%s-%s" .root.Chart.Name .root.Chart.Version | replace "+" "_" }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
app.kubernetes.io/part-of: stowage
{{- with .role }}
stowage.io/role: {{ . }}
{{- end }}
{{- end -}}

{{- define "stowage.image" -}}
{{ printf "%s:%s" .repository .tag | quote }}
{{- end -}}

{{/* Claim and volume names the chart creates. */}}
{{- define "stowage.claimName" -}}
{{- printf "%s-%s-%s" (include "stowage.fullname" .root) .group .name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stowage.volumeName" -}}
{{- printf "%s-%s" .root.Release.Namespace (include "stowage.claimName" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stowage.stateClaim" -}}
{{- .Values.persistence.scheduler.existingClaim | default (printf "%s-scheduler-state" (include "stowage.fullname" .)) -}}
{{- end -}}

{{/* Data safety: what Helm does with claims and volumes on uninstall. */}}
{{- define "stowage.keep" -}}
{{- with .Values.persistence.resourcePolicy }}
helm.sh/resource-policy: {{ . }}
{{- end }}
{{- end -}}

{{/* extraVolumes / extraVolumeMounts as a list, from a list or a map (maps layer across files). */}}
{{- define "stowage.asList" -}}
{{- $out := list -}}
{{- if kindIs "map" . -}}
{{- range $key, $body := . -}}
{{- $out = append $out (merge (deepCopy $body) (dict "name" $key)) -}}
{{- end -}}
{{- else -}}
{{- $out = . | default list -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{/* The data and outputs maps. With no persistence values at all: host paths on a single-node
cluster; on any other cluster nothing, since a host directory differs from node to node. */}}
{{- define "stowage.hostPathFallback" -}}
{{- $p := .Values.persistence -}}
{{- if and (not (or $p.data $p.outputs)) .Values.cluster.singleNode -}}true{{- end -}}
{{- end -}}

{{- define "stowage.dataVolumes" -}}
{{- $p := .Values.persistence -}}
{{- if include "stowage.hostPathFallback" . -}}
{{- toJson (dict "data" (dict "mountPath" $p.defaults.dataMountPath "hostPath" $p.defaults.dataHostPath)) -}}
{{- else -}}
{{- toJson ($p.data | default dict) -}}
{{- end -}}
{{- end -}}

{{- define "stowage.outputsVolumes" -}}
{{- $p := .Values.persistence -}}
{{- if include "stowage.hostPathFallback" . -}}
{{- toJson (dict "outputs" (dict "mountPath" $p.defaults.outputsMountPath "hostPath" $p.defaults.outputsHostPath)) -}}
{{- else -}}
{{- toJson ($p.outputs | default dict) -}}
{{- end -}}
{{- end -}}

{{/* One volume of the plan: nfs and claim sources become the claims the chart created. */}}
{{- define "stowage.planVolume" -}}
{{- $spec := .spec -}}
{{- $out := dict -}}
{{- range $key := list "mountPath" "readOnly" "subPath" "hostPath" "sharedByAllNodes" "existingClaim" "accessModes" "store" "bucket" "secret" "secretKey" "secretExternal" -}}
{{- if hasKey $spec $key -}}{{- if not (kindIs "invalid" (index $spec $key)) -}}
{{- $_ := set $out $key (index $spec $key) -}}
{{- end -}}{{- end -}}
{{- end -}}
{{- if $spec.nfs -}}
{{- $_ := set $out "existingClaim" (include "stowage.claimName" .) -}}
{{- $_ := set $out "accessModes" (list "ReadWriteMany") -}}
{{- else if $spec.claim -}}
{{- $_ := set $out "existingClaim" (include "stowage.claimName" .) -}}
{{- $_ := set $out "accessModes" ($spec.claim.accessModes | default (list "ReadWriteOnce")) -}}
{{- end -}}
{{- toJson $out -}}
{{- end -}}

{{- define "stowage.target" -}}
{{- $t := dict "matchLabels" (dict) "pool" .pool "outputs" .values.outputs "autoMount" .values.autoMount -}}
{{- if .role -}}
{{- $_ := set $t "matchLabels" (dict "stowage.io/role" .role "app.kubernetes.io/instance" .root.Release.Name) -}}
{{- end -}}
{{- if not (kindIs "invalid" .values.dataRefs) -}}
{{- $_ := set $t "dataRefs" .values.dataRefs -}}
{{- end -}}
{{- if .hasUser -}}
{{- $refs := list -}}
{{- range $name := (ternary $t.dataRefs .dataNames (hasKey $t "dataRefs")) -}}
{{- if ne $name "user-storage" -}}{{- $refs = append $refs $name -}}{{- end -}}
{{- end -}}
{{- $_ := set $t "dataRefs" $refs -}}
{{- else if and .runsForUser (hasKey $t "dataRefs") -}}
{{- /* dataRefs picks among persistence.data; per-user storage is configured on its own */ -}}
{{- $_ := set $t "dataRefs" (append $t.dataRefs "user-storage" | uniq) -}}
{{- end -}}
{{- toJson $t -}}
{{- end -}}

{{/* Per-user storage as one data volume of the plan; ${USER} is filled per run by Owl. */}}
{{- define "stowage.userVolume" -}}
{{- $us := .Values.userStorage -}}
{{- if eq $us.type "hostPath" -}}
{{- toJson (dict "mountPath" $us.mountPath "hostPath" $us.hostPath "sharedByAllNodes" ($us.sharedByAllNodes | default false)) -}}
{{- else if eq $us.type "nfs" -}}
{{- toJson (dict "mountPath" $us.mountPath "existingClaim" "nfs-storage-${USER}" "accessModes" (list "ReadWriteMany")) -}}
{{- else -}}
{{- toJson dict -}}
{{- end -}}
{{- end -}}

{{- define "stowage.platform" -}}
{{- if eq .Values.mode "platform" -}}true{{- end -}}
{{- end -}}

{{/* The storage plan handed to the post-renderer: the values, with chart-created claims resolved.
In platform mode the chart's own workloads are targets: the scheduler and API Deployments by
label, the pipeline Job and per-run Dask pods through the templates in the owl.yaml ConfigMap.
Per-user storage reaches only the pods that run for a user (pipeline, Dask). */}}
{{- define "stowage.plan" -}}
{{- $root := . -}}
{{- $v := .Values -}}
{{- $data := dict -}}
{{- range $name, $spec := fromJson (include "stowage.dataVolumes" .) -}}
{{- $_ := set $data $name (fromJson (include "stowage.planVolume" (dict "root" $root "group" "data" "name" $name "spec" $spec))) -}}
{{- end -}}
{{- $userVolume := fromJson (include "stowage.userVolume" .) -}}
{{- if $userVolume -}}
{{- $_ := set $data "user-storage" $userVolume -}}
{{- end -}}
{{- $outputs := dict -}}
{{- range $name, $spec := fromJson (include "stowage.outputsVolumes" .) -}}
{{- $_ := set $outputs $name (fromJson (include "stowage.planVolume" (dict "root" $root "group" "outputs" "name" $name "spec" $spec))) -}}
{{- end -}}
{{- $targets := dict -}}
{{- if include "stowage.platform" . -}}
{{- $names := keys (fromJson (include "stowage.dataVolumes" .)) | sortAlpha -}}
{{- $service := dict "root" . "pool" "core" "hasUser" (not (empty $userVolume)) "dataNames" $names -}}
{{- $_ := set $targets "scheduler" (fromJson (include "stowage.target" (merge (dict "role" "scheduler" "values" $v.scheduler) $service))) -}}
{{- $_ := set $targets "api" (fromJson (include "stowage.target" (merge (dict "role" "api" "values" $v.api) $service))) -}}
{{- $run := dict "root" . "runsForUser" (not (empty $userVolume)) -}}
{{- $_ := set $targets "pipeline" (fromJson (include "stowage.target" (merge (dict "pool" "pipeline" "values" $v.pipeline) $run))) -}}
{{- $_ := set $targets "dask" (fromJson (include "stowage.target" (merge (dict "pool" "dask" "values" $v.dask) $run))) -}}
{{- end -}}
{{- range $name, $target := $v.targets -}}
{{- $_ := set $targets $name $target -}}
{{- end -}}
{{- $plan := dict "cluster" $v.cluster "persistence" (dict "data" $data "outputs" $outputs) "dataPathsEnv" $v.dataPathsEnv "targets" $targets "vars" $v.vars "nodeSelector" $v.nodeSelector "tolerations" $v.tolerations "affinity" $v.affinity "securityContext" $v.securityContext "autoMount" $v.autoMount "hostPathAllow" $v.hostPathAllow -}}
{{- $templates := list -}}
{{- if include "stowage.platform" . -}}
{{- $_ := set $plan "stateMountPath" $v.persistence.scheduler.mountPath -}}
{{- $templates = append $templates (dict "preset" "owl" "configMap" (dict "name" (include "stowage.owlConfigName" .)) "key" "owl.yaml") -}}
{{- end -}}
{{- with concat $templates $v.templates -}}
{{- $_ := set $plan "templates" . -}}
{{- end -}}
{{- with $v.kinds -}}
{{- $_ := set $plan "kinds" . -}}
{{- end -}}
{{- with $v.waivers -}}
{{- $_ := set $plan "waivers" . -}}
{{- end -}}
{{- if $v.admission.enabled -}}
{{- $_ := set $plan "admission" (merge (dict "name" (include "stowage.fullname" .) "namespaces" (list .Release.Namespace)) $v.admission) -}}
{{- end -}}
{{- toJson $plan -}}
{{- end -}}

{{/* The Owl config ConfigMap, whose owl.yaml carries the pipeline and per-run Dask templates:
the one name the plan's `templates` entry (preset owl) refers to. */}}
{{- define "stowage.owlConfigName" -}}
{{- printf "%s-owl-config" (include "stowage.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stowage.daskConfigName" -}}
{{- printf "%s-dask-config" (include "stowage.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "stowage.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "stowage.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{- define "stowage.tokenSecretName" -}}
{{- .Values.owl.token.existingSecret | default (printf "%s-owl-token" (include "stowage.fullname" .)) -}}
{{- end -}}

{{- define "stowage.tokenKey" -}}
{{- if .Values.owl.token.existingSecret -}}{{ .Values.owl.token.key }}{{- else -}}token{{- end -}}
{{- end -}}

{{/* Owl's ports: the scheduler's ZeroMQ sockets (pipe, logs, admin) and the API. */}}
{{- define "stowage.owlPorts" -}}
{{- toJson (dict "pipe" 7001 "logs" 7002 "admin" 7003 "api" 8002 "probe" 8080) -}}
{{- end -}}

{{/* Owl's schema requires these seven OWL_* values (config `env`); the API and the
pipeline pods also read the scheduler's host and ports from the environment. */}}
{{- define "stowage.owlEnv" -}}
{{- $full := include "stowage.fullname" . -}}
{{- $ports := fromJson (include "stowage.owlPorts" .) -}}
OWL_SCHEDULER_SERVICE_HOST: {{ printf "%s-scheduler" $full | quote }}
OWL_SCHEDULER_SERVICE_PORT_PIPE: {{ $ports.pipe | quote }}
OWL_SCHEDULER_SERVICE_PORT_LOGS: {{ $ports.logs | quote }}
OWL_SCHEDULER_SERVICE_PORT_ADMIN: {{ $ports.admin | quote }}
OWL_API_SERVICE_HOST: {{ printf "%s-api" $full | quote }}
OWL_API_SERVICE_PORT: {{ $ports.api | quote }}
OWL_IMAGE_SPEC: {{ printf "%s:%s" .Values.image.platform.repository .Values.image.platform.tag | quote }}
{{- end -}}

{{/* The env of the scheduler, API and migration containers. */}}
{{- define "stowage.owlContainerEnv" -}}
{{- range $name, $value := fromYaml (include "stowage.owlEnv" .root) }}
- name: {{ $name }}
  value: {{ $value | quote }}
{{- end }}
- name: OWL_TOKEN
  valueFrom:
    secretKeyRef:
      name: {{ include "stowage.tokenSecretName" .root }}
      key: {{ include "stowage.tokenKey" .root }}
- name: LOGLEVEL
  value: {{ .root.Values.owl.loglevel | quote }}
{{- with .extra }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/* The state claim and the config, mounted where Owl reads them. */}}
{{- define "stowage.owlMounts" -}}
- name: state
  mountPath: {{ .Values.persistence.scheduler.mountPath }}
- name: owl-config
  mountPath: /etc/owl
  readOnly: true
{{- end -}}

{{- define "stowage.owlVolumes" -}}
- name: state
  persistentVolumeClaim:
    claimName: {{ include "stowage.stateClaim" . }}
- name: owl-config
  configMap:
    name: {{ include "stowage.owlConfigName" . }}
{{- end -}}

{{/* Hooks are not post-rendered by Helm 3: they carry their own restricted security context. */}}
{{- define "stowage.hookPodSecurityContext" -}}
runAsNonRoot: true
runAsUser: {{ .Values.securityContext.user }}
runAsGroup: {{ .Values.securityContext.group }}
seccompProfile:
  type: RuntimeDefault
{{- end -}}

{{- define "stowage.hookContainerSecurityContext" -}}
allowPrivilegeEscalation: false
capabilities:
  drop:
    - ALL
{{- end -}}
