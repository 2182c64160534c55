{{/*
Chart name, truncated to 63 characters.
*/}}
{{- define "aws-ebs-csi-driver.name" -}}
{{- .Chart.Name | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{- define "aws-ebs-csi-driver.chart" -}}
{{- printf "%s-%s" .Chart.Name .Chart.Version | replace "+" "_" | trunc 63 | trimSuffix "-" -}}
{{- end -}}

{{/*
Common labels.
*/}}
{{- define "aws-ebs-csi-driver.labels" -}}
helm.sh/chart: {{ include "aws-ebs-csi-driver.chart" . }}
app.kubernetes.io/name: {{ include "aws-ebs-csi-driver.name" . }}
app.kubernetes.io/instance: {{ .Release.Name }}
app.kubernetes.io/version: {{ .Chart.AppVersion | quote }}
app.kubernetes.io/managed-by: {{ .Release.Service }}
{{- end -}}

{{/*
Selector labels; `component` distinguishes the controller from the node plugin.
*/}}
{{- define "aws-ebs-csi-driver.selectorLabels" -}}
app.kubernetes.io/name: {{ include "aws-ebs-csi-driver.name" .root }}
app.kubernetes.io/instance: {{ .root.Release.Name }}
app: {{ .component }}
{{- end -}}

{{/*
Driver image: repository plus the tag, defaulting to "v<appVersion>".
*/}}
{{- define "aws-ebs-csi-driver.image" -}}
{{- printf "%s:%s" .Values.image.repository (default (printf "v%s" .Chart.AppVersion) .Values.image.tag) -}}
{{- end -}}

{{/*
Sidecar image from a sidecars.<name> block.
*/}}
{{- define "aws-ebs-csi-driver.sidecarImage" -}}
{{- printf "%s:%s" .image.repository .image.tag -}}
{{- end -}}

{{/*
True when the cluster serves the VolumeSnapshot API, i.e. snapshot-controller is installed.
*/}}
{{- define "aws-ebs-csi-driver.snapshotsEnabled" -}}
{{- if .Capabilities.APIVersions.Has "snapshot.storage.k8s.io/v1" -}}true{{- end -}}
{{- end -}}

{{/*
controller.extraVolumeTags rendered as the comma-separated key=value list --extra-tags expects.
*/}}
{{- define "aws-ebs-csi-driver.extraTags" -}}
{{- $tags := list -}}
{{- range $key, $value := .Values.controller.extraVolumeTags -}}
{{- $tags = append $tags (printf "%s=%v" $key $value) -}}
{{- end -}}
{{- join "," $tags -}}
{{- end -}}
