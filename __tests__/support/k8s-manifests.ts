// Renders the kubernetes_* resources of a synthesized stack (the Terraform
// JSON of the hashicorp/kubernetes provider) as the Kubernetes objects the
// provider would send, so tools that read manifests (checkov's Kubernetes
// framework) can check them. The mapping follows the provider's documented
// schema conventions:
// - resource type -> apiVersion and kind (KINDS), top-level attributes that
//   the provider names differently (storage_provisioner -> provisioner, rule
//   -> rules, subject -> subjects, ...);
// - attribute names snake_case -> camelCase; repeated blocks, which the
//   provider names in the singular (container, port, volume, toleration, ...),
//   -> the API's plural list (LIST_BLOCKS); any other block given as a list
//   is a single block (label_selector, pre_stop, ...) -> an object, and a
//   "single" block with more than one element is refused, never guessed;
// - the provider's string forms -> API types: octal modes ("0440" -> 288),
//   integers given as strings, int-or-string ports and budgets;
// - secret `data` is plain text in Terraform and base64 in the API;
// - references ${type.name.attr...} to another resource of the same stack are
//   resolved to its literal value where it has one (a namespace's name);
//   values only known at apply time (certificates, remote state outputs)
//   become "computed:<expression>" placeholders.
// Every leaf of the Terraform JSON is recorded with the path it maps to, so a
// test can prove that no field was lost. Terraform-only attributes (wait_for_*)
// have no API field and are listed in TERRAFORM_ONLY.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

interface KindInfo {
  readonly apiVersion: string;
  readonly kind: string;
  /** Top-level attributes the provider names differently from the API. */
  readonly top?: Readonly<Record<string, string>>;
}

export const KINDS: Readonly<Record<string, KindInfo>> = {
  kubernetes_namespace_v1: { apiVersion: "v1", kind: "Namespace" },
  kubernetes_config_map_v1: { apiVersion: "v1", kind: "ConfigMap" },
  kubernetes_secret_v1: { apiVersion: "v1", kind: "Secret" },
  kubernetes_service_account_v1: { apiVersion: "v1", kind: "ServiceAccount", top: { secret: "secrets", image_pull_secret: "imagePullSecrets" } },
  kubernetes_service_v1: { apiVersion: "v1", kind: "Service" },
  kubernetes_persistent_volume_claim_v1: { apiVersion: "v1", kind: "PersistentVolumeClaim" },
  kubernetes_stateful_set_v1: { apiVersion: "apps/v1", kind: "StatefulSet" },
  kubernetes_deployment_v1: { apiVersion: "apps/v1", kind: "Deployment" },
  kubernetes_daemon_set_v1: { apiVersion: "apps/v1", kind: "DaemonSet" },
  kubernetes_job_v1: { apiVersion: "batch/v1", kind: "Job" },
  kubernetes_cron_job_v1: { apiVersion: "batch/v1", kind: "CronJob" },
  kubernetes_pod_disruption_budget_v1: { apiVersion: "policy/v1", kind: "PodDisruptionBudget" },
  kubernetes_network_policy_v1: { apiVersion: "networking.k8s.io/v1", kind: "NetworkPolicy" },
  kubernetes_ingress_v1: { apiVersion: "networking.k8s.io/v1", kind: "Ingress" },
  kubernetes_role_v1: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", top: { rule: "rules" } },
  kubernetes_cluster_role_v1: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", top: { rule: "rules" } },
  kubernetes_role_binding_v1: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", top: { subject: "subjects" } },
  kubernetes_cluster_role_binding_v1: { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", top: { subject: "subjects" } },
  kubernetes_storage_class_v1: { apiVersion: "storage.k8s.io/v1", kind: "StorageClass", top: { storage_provisioner: "provisioner" } },
};

/** Attributes that only steer Terraform (the provider waits on them) and have no API field. */
export const TERRAFORM_ONLY = new Set([
  "wait_for_rollout",
  "wait_for_load_balancer",
  "wait_for_completion",
  "wait_for_service_account_token",
  "wait_for_default_service_account",
]);

/** Repeated blocks the provider names in the singular, and the API list they fill. */
const LIST_BLOCKS: Readonly<Record<string, string>> = {
  container: "containers",
  init_container: "initContainers",
  port: "ports",
  volume: "volumes",
  volume_mount: "volumeMounts",
  volume_device: "volumeDevices",
  env_from: "envFrom",
  toleration: "tolerations",
  topology_spread_constraint: "topologySpreadConstraints",
  volume_claim_template: "volumeClaimTemplates",
  image_pull_secrets: "imagePullSecrets",
  host_aliases: "hostAliases",
  node_selector_term: "nodeSelectorTerms",
  readiness_gate: "readinessGates",
  http_header: "httpHeaders",
  sysctl: "sysctls",
  option: "options",
  rule: "rules",
  subject: "subjects",
  path: "paths",
};

/** Attributes the provider spells differently from the API, wherever they appear. */
const RENAMES: Readonly<Record<string, string>> = { timezone: "timeZone" };

/** API fields that are lists of objects (so a Terraform list there is a real list). */
const API_LISTS = new Set([
  ...Object.values(LIST_BLOCKS),
  "env",
  "ingress",
  "egress",
  "from",
  "to",
  "items",
  "matchExpressions",
  "matchFields",
  "preferredDuringSchedulingIgnoredDuringExecution",
  "allowedTopologies",
  "matchLabelExpressions",
  "sources",
  "tls",
  "secrets",
  "requiredDuringSchedulingIgnoredDuringExecution",
]);
/** requiredDuringScheduling... is a list under podAffinity/podAntiAffinity, a single NodeSelector under nodeAffinity. */
const LIST_UNLESS_UNDER: Readonly<Record<string, string>> = { requiredDuringSchedulingIgnoredDuringExecution: "nodeAffinity" };

const INTEGERS = new Set([
  "replicas",
  "fsGroup",
  "runAsUser",
  "runAsGroup",
  "containerPort",
  "hostPort",
  "nodePort",
  "terminationGracePeriodSeconds",
  "initialDelaySeconds",
  "periodSeconds",
  "timeoutSeconds",
  "successThreshold",
  "failureThreshold",
  "maxSkew",
  "revisionHistoryLimit",
  "minReadySeconds",
  "progressDeadlineSeconds",
  "activeDeadlineSeconds",
  "backoffLimit",
  "completions",
  "parallelism",
  "successfulJobsHistoryLimit",
  "failedJobsHistoryLimit",
  "startingDeadlineSeconds",
  "ttlSecondsAfterFinished",
  "weight",
  "expirationSeconds",
  "partition",
]);
const OCTAL_MODES = new Set(["defaultMode", "mode"]);
const INT_OR_STRING = new Set(["port", "targetPort", "maxUnavailable", "minAvailable", "maxSurge"]);

export interface FieldRecord {
  /** Where the value is in the Terraform JSON, e.g. spec.template.spec.container[0].image */
  readonly tfPath: string;
  /** Where it is in the manifest, e.g. spec.template.spec.containers[0].image */
  readonly k8sPath: string;
  readonly tfValue: Json;
  readonly k8sValue: Json;
}

export interface RenderedObject {
  /** The Terraform address, type.name. */
  readonly address: string;
  readonly manifest: JsonObject;
  readonly fields: readonly FieldRecord[];
  /** Terraform-only attributes left out, by Terraform path. */
  readonly terraformOnly: readonly string[];
}

export interface TerraformJson {
  resource?: Record<string, Record<string, Record<string, unknown>>>;
}

const camel = (key: string) => RENAMES[key] ?? key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
const isObject = (v: unknown): v is JsonObject => typeof v === "object" && v !== null && !Array.isArray(v);

/** Resolves ${type.name.attr[0].attr} against the stack's resources; undefined when it has no literal value. */
function lookup(tf: TerraformJson, expression: string): Json | undefined {
  const m = /^([a-z0-9_]+)\.([A-Za-z0-9_-]+)((?:\.[a-z0-9_]+|\[\d+\])*)$/.exec(expression.trim());
  if (!m) return undefined;
  let node: unknown = tf.resource?.[m[1]]?.[m[2]];
  for (const seg of m[3].match(/\.[a-z0-9_]+|\[\d+\]/g) ?? []) {
    if (node === undefined) return undefined;
    if (seg.startsWith("[")) {
      const i = Number(seg.slice(1, -1));
      // The provider's single blocks are lists of one in references: metadata[0].name.
      node = Array.isArray(node) ? node[i] : i === 0 ? node : undefined;
    } else node = isObject(node) ? node[seg.slice(1)] : undefined;
  }
  if (typeof node === "string" || typeof node === "number" || typeof node === "boolean") return node;
  return undefined;
}

/** A string with its references resolved (recursively) or replaced by computed:<expression>. */
export function resolveReferences(tf: TerraformJson, value: string, depth = 0): Json {
  const whole = /^\$\{([^{}]+)\}$/.exec(value);
  if (whole) {
    const found = lookup(tf, whole[1]);
    if (found === undefined) return `computed:${whole[1]}`;
    return typeof found === "string" && depth < 5 ? resolveReferences(tf, found, depth + 1) : found;
  }
  return value.replace(/\$\{([^{}]+)\}/g, (_, expression: string) => {
    const found = lookup(tf, expression);
    return found === undefined ? `computed:${expression}` : String(depth < 5 && typeof found === "string" ? resolveReferences(tf, found, depth + 1) : found);
  });
}

function convertScalar(field: string, value: Json): Json {
  if (typeof value !== "string") return value;
  if (OCTAL_MODES.has(field) && /^0?[0-7]+$/.test(value)) return parseInt(value, 8);
  if ((INTEGERS.has(field) || INT_OR_STRING.has(field)) && /^\d+$/.test(value)) return Number(value);
  return value;
}

class Renderer {
  readonly fields: FieldRecord[] = [];
  readonly terraformOnly: string[] = [];

  constructor(private readonly tf: TerraformJson) {}

  /** Maps a Terraform value at tfPath (API field name `field`, parent API field `parent`) to its API value. */
  value(value: unknown, field: string, parent: string, tfPath: string, k8sPath: string, secretData = false): Json {
    if (typeof value === "string") {
      const resolved = resolveReferences(this.tf, value);
      const converted = secretData && typeof resolved === "string" ? Buffer.from(resolved).toString("base64") : convertScalar(field, resolved);
      this.fields.push({ tfPath, k8sPath, tfValue: value, k8sValue: converted });
      return converted;
    }
    if (typeof value === "number" || typeof value === "boolean" || value === null) {
      this.fields.push({ tfPath, k8sPath, tfValue: value, k8sValue: value });
      return value;
    }
    if (Array.isArray(value)) {
      if (value.length === 0 || value.every((v) => !isObject(v))) {
        if (value.length === 0) {
          this.fields.push({ tfPath, k8sPath, tfValue: [], k8sValue: [] });
          return [];
        }
        return value.map((v, i) => this.value(v, field, parent, `${tfPath}[${i}]`, `${k8sPath}[${i}]`));
      }
      const isList = API_LISTS.has(field) && LIST_UNLESS_UNDER[field] !== parent;
      if (isList) return value.map((v, i) => this.object(v as JsonObject, field, `${tfPath}[${i}]`, `${k8sPath}[${i}]`));
      if (value.length !== 1)
        throw new Error(`${tfPath}: a list of ${value.length} blocks where the API has a single ${field}; teach LIST_BLOCKS or API_LISTS about it`);
      return this.object(value[0] as JsonObject, field, `${tfPath}[0]`, k8sPath);
    }
    if (isObject(value)) return this.object(value, field, tfPath, k8sPath, secretData);
    throw new Error(`${tfPath}: unexpected ${typeof value}`);
  }

  /** A block: each attribute renamed and converted; maps (labels, data, ...) keep their keys. */
  object(block: JsonObject, field: string, tfPath: string, k8sPath: string, secretData = false): JsonObject {
    const out: JsonObject = {};
    const keys = Object.keys(block);
    if (keys.length === 0) {
      this.fields.push({ tfPath, k8sPath, tfValue: {}, k8sValue: {} });
      return out;
    }
    // A Service's selector is a label map; a workload's is a LabelSelector block (match_labels, match_expressions).
    const isMap = MAPS.has(field) && (field !== "selector" || Object.values(block).every((v) => typeof v === "string"));
    for (const key of keys) {
      const v = block[key];
      if (!isMap && TERRAFORM_ONLY.has(key)) {
        this.terraformOnly.push(`${tfPath}.${key}`);
        continue;
      }
      const name = isMap ? key : Array.isArray(v) && v.some(isObject) && LIST_BLOCKS[key] ? LIST_BLOCKS[key] : camel(key);
      if (name in out) throw new Error(`${tfPath}.${key}: two attributes map to ${name}`);
      out[name] = this.value(v, name, field, `${tfPath}.${key}`, isMap ? `${k8sPath}[${JSON.stringify(key)}]` : `${k8sPath}.${name}`, secretData && isMap);
    }
    return out;
  }
}

/** API fields whose keys are data (label names, file names), not attribute names. */
const MAPS = new Set([
  "labels",
  "annotations",
  "data",
  "binaryData",
  "stringData",
  "matchLabels",
  "selector",
  "nodeSelector",
  "limits",
  "requests",
  "parameters",
]);

/** One resource as the object the provider would send. */
export function renderResource(tf: TerraformJson, type: string, name: string): RenderedObject {
  const info = KINDS[type];
  if (!info) throw new Error(`${type}.${name}: no Kubernetes kind known for this resource type; add it to KINDS`);
  const resource = tf.resource?.[type]?.[name];
  if (!resource) throw new Error(`${type}.${name} is not in the stack`);
  const r = new Renderer(tf);
  const manifest: JsonObject = { apiVersion: info.apiVersion, kind: info.kind };
  for (const [key, value] of Object.entries(resource)) {
    if (key === "//" || key === "depends_on" || key === "lifecycle" || key === "provider" || key === "count" || key === "for_each") continue;
    if (TERRAFORM_ONLY.has(key)) {
      r.terraformOnly.push(key);
      continue;
    }
    const field = info.top?.[key] ?? (Array.isArray(value) && value.some(isObject) && LIST_BLOCKS[key] ? LIST_BLOCKS[key] : camel(key));
    const secretData = type === "kubernetes_secret_v1" && key === "data";
    manifest[field] = r.value(value, field, "", key, field, secretData);
  }
  return { address: `${type}.${name}`, manifest, fields: r.fields, terraformOnly: r.terraformOnly };
}

/** A kubernetes_manifest as the API gets it: written in the API's form already, only its references resolved; every leaf recorded. */
export function renderManifest(tf: TerraformJson, name: string): RenderedObject {
  const fields: FieldRecord[] = [];
  const walk = (value: Json, tfPath: string, k8sPath: string): Json => {
    if (Array.isArray(value)) {
      if (value.length === 0) fields.push({ tfPath, k8sPath, tfValue: value, k8sValue: [] });
      return value.map((v, i) => walk(v, `${tfPath}[${i}]`, `${k8sPath}[${i}]`));
    }
    if (isObject(value)) {
      const keys = Object.keys(value);
      if (keys.length === 0) fields.push({ tfPath, k8sPath, tfValue: value, k8sValue: {} });
      return Object.fromEntries(
        keys.map((k) => [
          k,
          walk(value[k], `${tfPath}.${k}`, /^[A-Za-z_][A-Za-z0-9_]*$/.test(k) ? (k8sPath ? `${k8sPath}.${k}` : k) : `${k8sPath}[${JSON.stringify(k)}]`),
        ]),
      );
    }
    const k8sValue = typeof value === "string" ? resolveReferences(tf, value) : value;
    if (k8sPath !== "apiVersion" && k8sPath !== "kind") fields.push({ tfPath, k8sPath, tfValue: value, k8sValue });
    return k8sValue;
  };
  const manifest = walk((tf.resource?.kubernetes_manifest?.[name] as { manifest: JsonObject }).manifest, "manifest", "") as JsonObject;
  return { address: `kubernetes_manifest.${name}`, manifest, fields, terraformOnly: [] };
}

/** Every kubernetes_* resource of a stack that has a Kubernetes kind (kubernetes_manifest passes through, its references resolved). */
export function renderStack(tf: TerraformJson): RenderedObject[] {
  const out: RenderedObject[] = [];
  for (const [type, resources] of Object.entries(tf.resource ?? {})) {
    if (!type.startsWith("kubernetes_")) continue;
    for (const name of Object.keys(resources)) {
      out.push(type === "kubernetes_manifest" ? renderManifest(tf, name) : renderResource(tf, type, name));
    }
  }
  return out;
}

/** Every leaf of a Terraform resource (scalars, empty lists and empty objects), by path, without cdktf metadata. */
export function terraformLeaves(value: unknown, path = ""): string[] {
  if (Array.isArray(value)) return value.length === 0 ? [path] : value.flatMap((v, i) => terraformLeaves(v, `${path}[${i}]`));
  if (isObject(value)) {
    const keys = Object.keys(value).filter((k) => !(path === "" && k === "//"));
    return keys.length === 0 ? [path] : keys.flatMap((k) => terraformLeaves(value[k], path ? `${path}.${k}` : k));
  }
  return [path];
}

/** The value at a manifest path written by the renderer: a.b[0]["key"].c */
export function valueAt(manifest: Json, path: string): Json | undefined {
  let node: Json | undefined = manifest;
  for (const seg of path.match(/\[\d+\]|\["(?:[^"\\]|\\.)*"\]|[^.[\]]+/g) ?? []) {
    if (node === undefined || node === null || typeof node !== "object") return undefined;
    if (seg.startsWith('["')) node = (node as JsonObject)[JSON.parse(seg.slice(1, -1)) as string];
    else if (seg.startsWith("[")) node = (node as Json[])[Number(seg.slice(1, -1))];
    else node = (node as JsonObject)[seg];
  }
  return node;
}
