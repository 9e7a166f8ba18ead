#!/bin/bash
# manifests_render.sh: `kubectl kustomize manifests/` renders offline, and
# the rendered objects keep the platform's rules: every container has
# requests, limits, probes, runAsNonRoot, a read-only root and a pinned tag;
# Grafana and PostgreSQL are on NodePorts 30000 and 30432; no secret value
# is written anywhere but in the generated Secret; the migrations shipped to
# the cluster are exactly the files of sql/.
#
# It renders a copy of manifests/ and sql/ (side by side, as kustomize's
# ../sql needs) with a secrets.env of random values made from
# secrets.env.example, so it works on a fresh clone, ignores a real
# secrets.env in the work tree, and can look for those values afterwards.
# Without secrets.env the render must fail: the rejecting twin.
. "$(dirname "$0")/../lib.sh"
t_need kubectl jq base64

tmp=$(t_tmpdir)
top=$tmp/top
mkdir -p "$top"
cp -r "$HUB_TOP/manifests" "$HUB_TOP/sql" "$top/"
rm -f "$top/manifests/secrets.env"
export KUBECONFIG=/dev/null     # never talk to a real cluster

kver=$(kubectl version --client -o json 2>/dev/null | jq -r '.kustomizeVersion // empty')
case "$kver" in
v[4-9]*|v[1-9][0-9]*) t_ok "kubectl carries kustomize $kver" ;;
*) t_fail "kubectl carries kustomize v4 or later" \
       "found '${kver:-none}': Debian's kubernetes-client 1.20 embeds kustomize v2, which lacks directory resources and labels; install a kubectl >= 1.21"
   t_done ;;
esac

# The rejecting twin: no secrets.env, no render (never the example's values).
if out=$(kubectl kustomize "$top/manifests" 2>&1); then
    t_fail "render without secrets.env is refused" "it rendered"
elif grep -q 'secrets.env' <<<"$out"; then
    t_ok "render without secrets.env is refused"
else
    t_fail "render without secrets.env is refused" "failed, but not naming secrets.env: $out"
fi

# secrets.env: the example's keys, each with a random value to look for later.
keys=$(sed -n 's/^\([A-Za-z_][A-Za-z0-9_]*\)=.*/\1/p' "$HUB_TOP/manifests/secrets.env.example")
for k in $keys; do
    echo "$k=hubtest-$k-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
done > "$top/manifests/secrets.env"
if [ -z "$keys" ]; then
    t_fail "secrets.env.example names keys" "no KEY=value lines"
fi

if kubectl kustomize "$top/manifests" > "$tmp/rendered.yaml" 2> "$tmp/render.err"; then
    t_ok "kubectl kustomize manifests/ renders"
else
    t_fail "kubectl kustomize manifests/ renders" "$(cat "$tmp/render.err")"
    t_done
fi
# YAML -> JSON offline: `annotate --local` parses and prints without a server.
if ! kubectl annotate --local -f "$tmp/rendered.yaml" -o json hub.test/rendered=1 \
        2> "$tmp/json.err" | jq -s . > "$tmp/objs.json"; then
    t_fail "rendered objects parse" "$(cat "$tmp/json.err")"
    t_done
fi
t_ok "rendered objects parse ($(jq length "$tmp/objs.json") objects)"

# q NAME JQ: ok when the jq program over all objects prints nothing; what it
# prints names the offenders.
q() {
    local name=$1 out
    out=$(jq -r "$2" "$tmp/objs.json" 2>&1)
    if [ -z "$out" ]; then
        t_ok "$name"
    else
        t_fail "$name" "$out"
    fi
}

# Every container of every workload, with its pod spec, as
# {where, c, pod}.
containers='def containers: .[] | select(.kind == "Deployment" or .kind == "StatefulSet" or .kind == "DaemonSet")
    | . as $w | .spec.template.spec as $pod
    | (($pod.initContainers // []) + $pod.containers)[]
    | {where: "\($w.kind)/\($w.metadata.name)/\(.name)", c: ., pod: $pod};'

q "workloads exist" '[.[] | select(.kind == "Deployment" or .kind == "StatefulSet" or .kind == "DaemonSet")
    | .metadata.name] | sort | if . == ["alloy","grafana","loki","otel-collector","postgres","tempo"] then empty
    else "workloads: \(.)" end'
q "every container has cpu and memory requests and limits" "$containers"'
    containers | select([.c.resources.requests.cpu, .c.resources.requests.memory,
                         .c.resources.limits.cpu, .c.resources.limits.memory] | any(. == null)) | .where'
q "every container has liveness and readiness probes" "$containers"'
    containers | select(.c.livenessProbe == null or .c.readinessProbe == null) | .where'
q "every container runs as non-root" "$containers"'
    containers | select((.c.securityContext.runAsNonRoot // .pod.securityContext.runAsNonRoot) != true
                        or (.c.securityContext.runAsUser // .pod.securityContext.runAsUser // 1) == 0) | .where'
q "every container has a read-only root and no privilege escalation" "$containers"'
    containers | select(.c.securityContext.readOnlyRootFilesystem != true
                        or .c.securityContext.allowPrivilegeEscalation != false) | .where'
q "every image has a pinned tag" "$containers"'
    containers | .c.image as $i
    | select(($i | test("^[^@]+:[A-Za-z0-9_][A-Za-z0-9_.-]*$") | not) or ($i | test(":latest$")))
    | "\(.where): \($i)"'
q "no pull policy that would fetch a moving tag" "$containers"'
    containers | select(.c.imagePullPolicy == "Always") | .where'

q "NodePorts are exactly Grafana 30000 and PostgreSQL 30432" '
    [.[] | select(.kind == "Service") | . as $s | .spec.ports[] | select(.nodePort != null)
     | "\($s.spec.selector["app.kubernetes.io/name"]):\(.nodePort)"] | sort
    | if . == ["grafana:30000", "postgres:30432"] then empty else "nodePorts: \(.)" end'
q "the OTLP HTTP receiver is on hostPort 4318" "$containers"'
    [containers | .c.ports[]? | select(.hostPort != null) | "\(.hostPort)/\(.containerPort)"]
    | if . == ["4318/4318"] then empty else "hostPorts: \(.)" end'
q "every namespaced object is in observability" '
    .[] | select(.kind != "Namespace" and .metadata.namespace != "observability")
    | "\(.kind)/\(.metadata.name): \(.metadata.namespace)"'
q "every ConfigMap and Secret a pod names exists" '
    ([.[] | select(.kind == "ConfigMap" or .kind == "Secret") | "\(.kind):\(.metadata.name)"]) as $have
    | .[] | select(.spec.template.spec != null) | .metadata.name as $w
    | .spec.template.spec
    | ([.volumes[]? | (.configMap.name // empty | "ConfigMap:\(.)"), (.secret.secretName // empty | "Secret:\(.)")]
       + [(.containers[], .initContainers[]?) | .env[]? | .valueFrom.secretKeyRef.name // empty | "Secret:\(.)"]
       + [(.containers[], .initContainers[]?) | .env[]? | .valueFrom.configMapKeyRef.name // empty | "ConfigMap:\(.)"])[]
    | select(. as $r | $have | index($r) | not) | "\($w): \(.)"'

# Secrets.
q "secret-like env vars come from a Secret, never a literal" "$containers"'
    containers | .where as $w | .c.env[]?
    | select(.name | test("PASSWORD|SECRET|TOKEN|_KEY$|CREDENTIAL"; "i"))
    | select(.value != null or .valueFrom.secretKeyRef == null) | "\($w): \(.name)"'
q "every secretKeyRef names a key of its Secret" '
    (map(select(.kind == "Secret")) | map({(.metadata.name): (.data // {} | keys)}) | add // {}) as $keys
    | .[] | select(.spec.template.spec != null) | .metadata.name as $w
    | .spec.template.spec | (.containers[], .initContainers[]?) | .env[]?
    | .valueFrom.secretKeyRef // empty | . as $r
    | select(($keys[$r.name] // []) | index($r.key) | not) | "\($w): \($r.name)/\($r.key)"'
q "no literal password, secret or token in a ConfigMap (only \$VAR references)" '
    .[] | select(.kind == "ConfigMap") | .metadata.name as $cm | .data | to_entries[]
    | .key as $f | .value | split("\n")[]
    | select(test("^\\s*\"?[A-Za-z_]*(password|secret|token)[A-Za-z_]*\"?\\s*[:=]\\s*\"?[^\\s\"$]"; "i"))
    | "\($cm)/\($f): \(.)"'
got=$(jq -r '.[] | select(.kind == "Secret") | .data | to_entries[] | "\(.key)=\(.value | @base64d)"' \
      "$tmp/objs.json" | sort)
t_eq "the Secret holds exactly secrets.env" "$(sort "$top/manifests/secrets.env")" "$got"
jq 'map(select(.kind != "Secret"))' "$tmp/objs.json" > "$tmp/nonsecret.json"
leaks=""
while IFS='=' read -r k v; do
    b64=$(printf '%s' "$v" | base64 -w0)
    if grep -qF -e "$v" -e "$b64" "$tmp/nonsecret.json"; then
        leaks="$leaks $k"
    fi
done < "$top/manifests/secrets.env"
t_eq "no secret value outside the Secret" "" "$leaks"
if git -C "$HUB_TOP" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    t_check "manifests/secrets.env is git-ignored" git -C "$HUB_TOP" check-ignore -q manifests/secrets.env
else
    t_check "manifests/secrets.env is git-ignored" grep -qx '/secrets.env' "$HUB_TOP/manifests/.gitignore"
fi

# The schema: one copy, the files of sql/, byte for byte.
want=$(cd "$HUB_TOP/sql" && ls [0-9]*.sql)
have=$(jq -r '.[] | select(.kind == "ConfigMap" and (.metadata.name | startswith("hub-sql-")))
              | .data | keys[]' "$tmp/objs.json")
t_eq "hub-sql ships every migration of sql/ (list them in sql/kustomization.yaml)" "$want" "$have"
diffs=""
for f in $want; do
    if ! jq -j --arg f "$f" '.[] | select(.kind == "ConfigMap" and (.metadata.name | startswith("hub-sql-")))
                             | .data[$f]' "$tmp/objs.json" | cmp -s - "$HUB_TOP/sql/$f"; then
        diffs="$diffs $f"
    fi
done
t_eq "hub-sql files equal sql/ byte for byte" "" "$diffs"
q "postgres mounts hub-sql and runs the migration at first start" '
    .[] | select(.kind == "StatefulSet" and .metadata.name == "postgres") | .spec.template.spec
    | ([.volumes[] | select(.configMap.name // "" | startswith("hub-sql-"))] | length) as $sql
    | ([.containers[0].volumeMounts[] | select(.mountPath | startswith("/docker-entrypoint-initdb.d/"))
        | .subPath] | sort) as $init
    | if $sql == 1 and $init == ["grafana-role.sh", "hub-migrate.sh"] then empty
      else "hub-sql volumes: \($sql), initdb scripts: \($init)" end'

# Alloy reads the host journal from both places: /run/log/journal, and
# /var/log (for /var/log/journal when the host keeps one) ...
q "alloy mounts /var/log and /run/log/journal read-only" '
    .[] | select(.kind == "DaemonSet" and .metadata.name == "alloy") | .spec.template.spec as $p
    | ["/var/log", "/run/log/journal"][] as $d
    | select([$p.containers[0].volumeMounts[] | select(.mountPath == $d and .readOnly == true)] | length != 1)
    | "missing read-only mount \($d)"'
# ... and never creates anything under /var/log on the host: journald's
# Storage=auto turns persistent when /var/log/journal appears.
q "alloy creates no host directory under /var/log" '
    .[] | select(.kind == "DaemonSet" and .metadata.name == "alloy") | .spec.template.spec.volumes[]
    | select(.hostPath != null and (.hostPath.path | startswith("/var/log"))
             and (.hostPath.type // "") != "Directory")
    | "hostPath \(.hostPath.path) has type \(.hostPath.type // "(none)"): it may be created"'

# Grafana: the dashboards and data sources it is given fit together.
q "grafana gets the four dashboards, each valid JSON with a uid" '
    [.[] | select(.kind == "ConfigMap" and (.metadata.name | startswith("grafana-dashboards-")))
     | .data | to_entries[] | {k: .key, uid: ((.value | fromjson | .uid) // null)}]
    | if (map(.k) | sort) != ["gitops.json", "host.json", "logs.json", "reading.json"] then "dashboards: \(map(.k))"
      else (.[] | select(.uid == null) | "\(.k) has no uid") end'
ds_uids=$(sed -n 's/^ *uid: *\([A-Za-z0-9_-]*\).*/\1/p' "$HUB_TOP/manifests/grafana/datasources.yaml" | sort -u)
used_uids=$(jq -r '.. | objects | select(has("datasource")) | .datasource | objects | .uid // empty' \
            "$HUB_TOP"/manifests/grafana/dashboards/*.json | sort -u)
missing=$(comm -13 <(echo "$ds_uids") <(echo "$used_uids") | tr '\n' ' ')
t_eq "every data source a dashboard names is provisioned" "" "$missing"

t_done
