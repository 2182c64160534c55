{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "kube-prometheus-stack.name" -}}
{{- default .Chart.Name .Values.nameOverride | trunc 50 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified app name. Truncated to 26 characters because the operator appends suffixes
such as "-prometheus" and StatefulSet pod names must stay within 63 characters.
*/}}
{{- define "kube-prometheus-stack.fullname" -}}
{{- if .Values.fullnameOverride -}}
{{- .Values.fullnameOverride | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- $name := default .Chart.Name .Values.nameOverride -}}
{{- if contains $name .Release.Name -}}
{{- .Release.Name | trunc 26 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name $name | trunc 26 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}
{{- end -}}

{{- define "kube-prometheus-stack.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Labels on every object. `release` is what the Prometheus selectors match on.
*/}}
{{- define "kube-prometheus-stack.labels" -}}
helm.sh/chart: {{ include "kube-prometheus-stack.chart" . }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.Version | quote }}
app.kubernetes.io/part-of: {{ include "kube-prometheus-stack.name" . }}
release: {{ .Release.Name | quote }}
{{- with .Values.commonLabels }}
{{ toYaml . }}
{{- end }}
{{- end -}}

{{/*
Image reference from a { registry, repository, tag } block; `tag` falls back to `default`.
Usage: include "kube-prometheus-stack.image" (dict "image" .Values.x.image "default" "v1.0.0")
*/}}
{{- define "kube-prometheus-stack.image" -}}
{{- $tag := default .default .image.tag -}}
{{- if .image.registry -}}
{{- printf "%s/%s:%s" .image.registry .image.repository $tag -}}
{{- else -}}
{{- printf "%s:%s" .image.repository $tag -}}
{{- end -}}
{{- end -}}

{{- define "kube-prometheus-stack.operator.fullname" -}}
{{- printf "%s-operator" (include "kube-prometheus-stack.fullname" .) -}}
{{- end -}}

{{- define "kube-prometheus-stack.prometheus.fullname" -}}
{{- printf "%s-prometheus" (include "kube-prometheus-stack.fullname" .) -}}
{{- end -}}

{{- define "kube-prometheus-stack.alertmanager.fullname" -}}
{{- printf "%s-alertmanager" (include "kube-prometheus-stack.fullname" .) -}}
{{- end -}}

{{/*
Selector for ServiceMonitors, PodMonitors and rules: the release label, or everything.
*/}}
{{- define "kube-prometheus-stack.releaseSelector" -}}
matchLabels:
  release: {{ .Release.Name | quote }}
{{- end -}}
