{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "cert-manager.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name: the release name when it already contains the chart name (the usual
"cert-manager" release), otherwise release-chart.
*/}}
{{- define "cert-manager.fullname" -}}
{{- if contains .Chart.Name .Release.Name -}}
{{- .Release.Name | trunc 63 | trimSuffix "-" -}}
{{- else -}}
{{- printf "%s-%s" .Release.Name .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}
{{- end -}}

{{- define "webhook.fullname" -}}
{{- printf "%s-webhook" (include "cert-manager.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cainjector.fullname" -}}
{{- printf "%s-cainjector" (include "cert-manager.fullname" .) | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cert-manager.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "cert-manager.serviceAccountName" -}}
{{- if .Values.serviceAccount.create -}}
{{- default (include "cert-manager.fullname" .) .Values.serviceAccount.name -}}
{{- else -}}
{{- default "default" .Values.serviceAccount.name -}}
{{- end -}}
{{- end -}}

{{/*
Labels for a component. Call with (dict "root" $ "component" "controller").
*/}}
{{- define "cert-manager.labels" -}}
app.kubernetes.io/name: {{ include "cert-manager.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component | quote }}
app.kubernetes.io/version: {{ .root.Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .root.Release.Service }}
helm.sh/chart: {{ include "cert-manager.chart" .root }}
{{- end -}}

{{- define "cert-manager.selectorLabels" -}}
app.kubernetes.io/name: {{ include "cert-manager.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app.kubernetes.io/component: {{ .component | quote }}
{{- end -}}

{{/*
Image reference with the tag defaulting to the chart appVersion.
Call with (dict "image" .Values.x.image "root" $).
*/}}
{{- define "cert-manager.image" -}}
{{- printf "%s:%s" .image.repository (default .root.Chart.AppVersion .image.tag) -}}
{{- end -}}
