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

{{/* The data and outputs maps; with no persistence values at all, host paths (single-node only). */}}
{{- define "stowage.dataVolumes" -}}
{{- $p := .Values.persistence -}}
{{- if or $p.data $p.outputs -}}
{{- toJson ($p.data | default dict) -}}
{{- else -}}
{{- toJson (dict "data" (dict "mountPath" $p.defaults.dataMountPath "hostPath" $p.defaults.dataHostPath)) -}}
{{- end -}}
{{- end -}}

{{- define "stowage.outputsVolumes" -}}
{{- $p := .Values.persistence -}}
{{- if or $p.data $p.outputs -}}
{{- toJson ($p.outputs | default dict) -}}
{{- else -}}
{{- toJson (dict "outputs" (dict "mountPath" $p.defaults.outputsMountPath "hostPath" $p.defaults.outputsHostPath)) -}}
{{- end -}}
{{- end -}}

{{/* One volume of the plan: nfs and claim sources become the claims the chart created. */}}
{{- define "stowage.planVolume" -}}
{{- $spec := .spec -}}
{{- $out := dict -}}
{{- range $key := list "mountPath" "readOnly" "subPath" "hostPath" "existingClaim" "accessModes" "store" "bucket" "secret" "secretKey" "secretExternal" -}}
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
{{- $t := dict "matchLabels" (dict "stowage.io/role" .role "app.kubernetes.io/instance" .root.Release.Name) "pool" .pool "outputs" .values.outputs "autoMount" .values.autoMount -}}
{{- if not (kindIs "invalid" .values.dataRefs) -}}
{{- $_ := set $t "dataRefs" .values.dataRefs -}}
{{- end -}}
{{- toJson $t -}}
{{- end -}}

{{/* The storage plan handed to the post-renderer: the values, with chart-created claims resolved. */}}
{{- define "stowage.plan" -}}
{{- $root := . -}}
{{- $v := .Values -}}
{{- $data := dict -}}
{{- range $name, $spec := fromJson (include "stowage.dataVolumes" .) -}}
{{- $_ := set $data $name (fromJson (include "stowage.planVolume" (dict "root" $root "group" "data" "name" $name "spec" $spec))) -}}
{{- end -}}
{{- $outputs := dict -}}
{{- range $name, $spec := fromJson (include "stowage.outputsVolumes" .) -}}
{{- $_ := set $outputs $name (fromJson (include "stowage.planVolume" (dict "root" $root "group" "outputs" "name" $name "spec" $spec))) -}}
{{- end -}}
{{- $targets := dict -}}
{{- $_ := set $targets "scheduler" (fromJson (include "stowage.target" (dict "root" . "role" "scheduler" "pool" "core" "values" $v.scheduler))) -}}
{{- $_ := set $targets "pipeline" (fromJson (include "stowage.target" (dict "root" . "role" "pipeline" "pool" "pipeline" "values" $v.pipeline))) -}}
{{- if $v.dask.enabled -}}
{{- $_ := set $targets "dask" (fromJson (include "stowage.target" (dict "root" . "role" "dask" "pool" "dask" "values" $v.dask))) -}}
{{- end -}}
{{- $plan := dict "cluster" $v.cluster "persistence" (dict "data" $data "outputs" $outputs) "dataPathsEnv" $v.dataPathsEnv "targets" $targets "vars" $v.vars "nodeSelector" $v.nodeSelector "tolerations" $v.tolerations "affinity" $v.affinity "securityContext" $v.securityContext "autoMount" $v.autoMount "hostPathAllow" $v.hostPathAllow "stateMountPath" $v.persistence.scheduler.mountPath -}}
{{- toJson $plan -}}
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
