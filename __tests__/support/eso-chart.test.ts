// The small chart evaluator the External Secrets end-to-end test renders the
// controller's RBAC with: the forms it supports, and a refusal of any other.
import { renderChartTemplate } from "./eso";

const TEMPLATE = `{{- if .Values.rbac.create -}}
apiVersion: rbac.authorization.k8s.io/v1
{{- if and .Values.scopedNamespace .Values.scopedRBAC }}
kind: Role
{{- else }}
kind: ClusterRole
{{- end }}
metadata:
  name: {{ include "external-secrets.fullname" . }}-controller
  labels:
    {{- include "external-secrets.labels" . | nindent 4 }}
rules:
  - resources:
    - "secretstores"
    {{- if .Values.processClusterStore }}
    - "clustersecretstores"
    {{- end }}
    verbs: ["get"]
{{- end }}
`;

describe("renderChartTemplate", () => {
  it("evaluates if, and, else and end against the values, and fills the chart's names", () => {
    expect(renderChartTemplate(TEMPLATE, { rbac: { create: true }, scopedNamespace: "", scopedRBAC: false, processClusterStore: true })).toEqual([
      {
        apiVersion: "rbac.authorization.k8s.io/v1",
        kind: "ClusterRole",
        metadata: { name: "external-secrets-controller", labels: undefined },
        rules: [{ resources: ["secretstores", "clustersecretstores"], verbs: ["get"] }],
      },
    ]);
    const scoped = renderChartTemplate(TEMPLATE, { rbac: { create: true }, scopedNamespace: "ns", scopedRBAC: true, processClusterStore: false });
    expect(scoped[0]).toMatchObject({ kind: "Role", rules: [{ resources: ["secretstores"] }] });
    expect(renderChartTemplate(TEMPLATE, { rbac: { create: false } })).toEqual([]);
  });

  it("refuses a template form it does not know instead of rendering it wrong", () => {
    expect(() => renderChartTemplate("name: {{ .Values.name | quote }}\n", {})).toThrow("unsupported template line");
    expect(() => renderChartTemplate('name: {{ include "other.helper" . }}\n', {})).toThrow("unsupported template helper other.helper");
  });
});
