{{/*
Chart name, truncated to the 63 characters allowed in a label value.
*/}}
{{- define "tigera-operator.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Fully qualified name of the operator objects. The operator expects to be called
"tigera-operator", so the release name is deliberately not part of it.
*/}}
{{- define "tigera-operator.fullname" -}}
{{- "tigera-operator" -}}
{{- end -}}

{{- define "tigera-operator.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "tigera-operator.selectorLabels" -}}
app.kubernetes.io/name: {{ include "tigera-operator.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
{{- end -}}

{{- define "tigera-operator.labels" -}}
helm.sh/chart: {{ include "tigera-operator.chart" . }}
{{ include "tigera-operator.selectorLabels" . }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
app.kubernetes.io/part-of: calico
{{- end -}}

{{- define "tigera-operator.serviceAccountName" -}}
{{- default (include "tigera-operator.fullname" .) .Values.serviceAccount.name -}}
{{- end -}}

{{/*
Operator image reference: registry/image:version.
*/}}
{{- define "tigera-operator.image" -}}
{{- $registry := .Values.tigeraOperator.registry | trimSuffix "/" -}}
{{- if $registry -}}
{{- printf "%s/%s:%s" $registry .Values.tigeraOperator.image .Values.tigeraOperator.version -}}
{{- else -}}
{{- printf "%s:%s" .Values.tigeraOperator.image .Values.tigeraOperator.version -}}
{{- end -}}
{{- end -}}
