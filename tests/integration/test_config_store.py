"""Constraint and placement documents in the graph: push, review lifecycle, publish, audit, the graph nodes
of a version, the runtime's `published` read; over the store, the HTTP API (Bearer keys) and the CLI,
against the real graph server."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import yaml
from fastapi.testclient import TestClient
from neo4j import Driver
from typer.testing import CliRunner

from app.api.main import create_app
from app.cli import app as cli_app
from app.clock import FakeClock
from app.decisions.config_lint import ConfigInvalid, canonical_config, config_checksum, example_path, load_config
from app.decisions.config_store import ConfigStore, PublishedConfig
from app.decisions.samples import load_config_samples
from app.journeys.store import Forbidden, LifecycleError, NotFound
from app.runtime import make_services
from app.settings import Settings, get_settings
from graph_models.constraints import ConstraintSet, PlacementSet
from graph_models.journey import CHANNELS
from graph_models.principal import ApiKey, Principal
from tests.integration.support import rows

pytestmark = pytest.mark.integration

ADA = Principal(name="ada", role="author")
GRACE = Principal(name="grace", role="approver")
HOPPER = Principal(name="hopper", role="approver")


def constraints_data(**changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(example_path("constraints").read_text())
    return {**data, **changes}


def constraints(**changes: Any) -> ConstraintSet:
    return ConstraintSet.model_validate(constraints_data(**changes))


def placements() -> PlacementSet:
    model = load_config("placements", example_path("placements"))
    assert isinstance(model, PlacementSet)
    return model


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(graph: Driver, settings: Settings, clock: FakeClock) -> ConfigStore:
    return ConfigStore(graph, settings.neo4j_database, clock)


def statuses(graph: Driver, settings: Settings, doc: str = "constraints/default") -> dict[int, str]:
    found = rows(graph, settings, "MATCH (:ConfigDocument {key: $d})-[:HAS_VERSION]->(v:ConfigVersion) "
                                  "RETURN v.version AS version, v.status AS status", d=doc)
    return {r["version"]: r["status"] for r in found}


def audit_actions(graph: Driver, settings: Settings) -> list[tuple[str, int, str, str]]:
    found = rows(graph, settings, "MATCH (v:ConfigVersion)-[:AUDITED]->(a:AuditEntry) "
                                  "RETURN v.key AS key, a.version AS version, a.action AS action, "
                                  "a.principal AS principal, v.version AS linked, a.checksum AS checksum, "
                                  "v.checksum AS versionChecksum ORDER BY a.atMs, a.seq")
    assert all(r["version"] == r["linked"] and r["checksum"] == r["versionChecksum"] for r in found)
    return [(r["key"], r["version"], r["action"], r["principal"]) for r in found]


def to_approved(store: ConfigStore, model: ConstraintSet | PlacementSet, kind: str = "constraints") -> int:
    version = store.push(kind, model, ADA).version
    store.submit(kind, model.id, version, ADA)
    store.approve(kind, model.id, version, GRACE)
    return version


def in_tx(graph: Driver, settings: Settings, kind: Any) -> PublishedConfig | None:
    with graph.session(database=settings.neo4j_database) as session:
        return session.execute_read(ConfigStore.published, kind)


# --- store ------------------------------------------------------------------------------------------------


def test_push_creates_document_version_constraints_and_audit(store: ConfigStore, graph: Driver,
                                                             settings: Settings, clock: FakeClock) -> None:
    model = constraints()
    info = store.push("constraints", model, ADA)
    assert (info.key, info.kind, info.id, info.version, info.status, info.author, info.created) == \
        ("constraints/default@1", "constraints", "default", 1, "draft", "ada", True)
    assert info.checksum == config_checksum(model) and info.createdAtMs == clock.now_ms()
    doc = rows(graph, settings, "MATCH (d:ConfigDocument) RETURN properties(d) AS p")
    assert len(doc) == 1
    assert {k: doc[0]["p"][k] for k in ("key", "kind", "id", "latestVersion")} == \
        {"key": "constraints/default", "kind": "constraints", "id": "default", "latestVersion": 1}
    version = rows(graph, settings,
                   "MATCH (:ConfigDocument)-[:HAS_VERSION]->(v:ConfigVersion) RETURN properties(v) AS p")
    props = version[0]["p"]
    assert props["definition"] == canonical_config(model) and props["status"] == "draft"
    assert props["createdAtMs"] == clock.now_ms() and props["author"] == "ada"

    again = store.push("constraints", constraints(), ADA)
    assert (again.version, again.created) == (1, False)
    assert [a[2] for a in audit_actions(graph, settings)] == ["push"]
    pushed = rows(graph, settings, "MATCH (:ConfigVersion)-[:AUDITED]->(a:AuditEntry) RETURN a.detail AS d")
    assert json.loads(pushed[0]["d"])["constraints"] == 19


def test_constraint_nodes_and_channels(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    version = to_approved(store, constraints())
    store.publish("constraints", "default", version, GRACE)
    found = rows(graph, settings, """
        MATCH (:ConfigVersion {key: 'constraints/default@1'})-[:HAS_CONSTRAINT]->(k:Constraint)
        OPTIONAL MATCH (k)-[:ON_CHANNEL]->(c:Channel)
        WITH k, c ORDER BY c.channelId
        RETURN k.key AS key, k.constraintId AS id, k.kind AS kind, k.name AS name, k.config AS config,
               collect(c.channelId) AS channels ORDER BY id""")
    by_id = {r["id"]: r for r in found}
    assert set(by_id) == {
        "cap:email-daily", "cap:all-weekly", "cap:promo-weekly", "cap:cart-daily", "cap:sms-calendar-day",
        "quiet_hours:sms", "quiet_hours:push", *(f"consent:{c}" for c in CHANNELS),
        "suppression:hard-bounces", "suppression:legal-hold", "exclusion:promotions", "global_control",
        "priority", "arbitration"}
    assert by_id["cap:email-daily"]["key"] == "constraints/default@1/cap:email-daily"
    assert by_id["cap:email-daily"]["kind"] == "cap" and by_id["cap:email-daily"]["channels"] == ["email"]
    assert by_id["quiet_hours:sms"]["channels"] == ["sms"]
    assert by_id["suppression:legal-hold"]["channels"] == sorted(CHANNELS)
    assert by_id["priority"]["channels"] == [] and json.loads(by_id["priority"]["config"])["priorities"][
        "abandoned-cart"] == 80
    channels = rows(graph, settings, "MATCH (c:Channel) RETURN c.channelId AS id ORDER BY id")
    assert [c["id"] for c in channels] == sorted(CHANNELS)
    lists = rows(graph, settings, "MATCH (l:SuppressionList) RETURN l.listId AS id, l.channels AS ch ORDER BY id")
    assert lists == [{"id": "hard-bounces", "ch": ["email"]}, {"id": "legal-hold", "ch": []}]


def test_placement_nodes(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    version = to_approved(store, placements(), "placements")
    store.publish("placements", "default", version, GRACE)
    found = rows(graph, settings, """
        MATCH (:ConfigVersion {key: 'placements/default@1'})-[:HAS_PLACEMENT]->(p:Placement)-[:ON_CHANNEL]->(c:Channel)
        MATCH (p)-[:OFFERS]->(o:Offer)
        RETURN p.key AS placement, c.channelId AS channel, o.key AS offer, o.template AS template,
               o.priority AS priority, o.score AS score, o.tags AS tags, o.when AS when ORDER BY offer""")
    assert [(r["placement"], r["offer"], r["template"]) for r in found] == [
        ("placements/default@1/cart_drawer", "placements/default@1/cart_drawer/cart-banner", "cart_banner_in_app"),
        ("placements/default@1/home_banner", "placements/default@1/home_banner/upgrade-banner",
         "upgrade_banner_in_app"),
        ("placements/default@1/home_banner", "placements/default@1/home_banner/welcome-back", "welcome_back_in_app"),
    ]
    upgrade = found[1]
    assert (upgrade["channel"], upgrade["priority"], upgrade["score"], upgrade["tags"]) == ("in_app", 70, 0.5,
                                                                                          ["promo"])
    assert json.loads(upgrade["when"]) == {"trait": "plan", "op": "eq", "value": "trial"}
    caps = rows(graph, settings, "MATCH (:ConfigVersion {key: 'placements/default@1'})-[:HAS_CONSTRAINT]->"
                                 "(k:Constraint) RETURN k.constraintId AS id ORDER BY id")
    assert [c["id"] for c in caps] == ["arbitration", "offer_cap:cart-banner:cart-banner-daily",
                                       "offer_cap:upgrade-banner:upgrade-banner-daily",
                                       "offer_cap:welcome-back:welcome-back-weekly"]


def test_full_lifecycle_and_published(store: ConfigStore, graph: Driver, settings: Settings,
                                      clock: FakeClock) -> None:
    assert in_tx(graph, settings, "constraints") is None
    v1 = store.push("constraints", constraints(), ADA)
    assert store.submit("constraints", "default", 1, ADA).status == "in_review"
    approved = store.approve("constraints", "default", 1, GRACE)
    assert (approved.status, approved.approvedBy) == ("approved", "grace")
    clock.advance(seconds=5)
    published = store.publish("constraints", "default", 1, GRACE)
    assert (published.status, published.publishedBy, published.publishedAtMs) == \
        ("published", "grace", clock.now_ms())
    live = in_tx(graph, settings, "constraints")
    assert live is not None
    assert (live.version_key, live.version, live.checksum) == ("constraints/default@1", 1, v1.checksum)
    assert isinstance(live.model, ConstraintSet) and live.model == constraints()
    assert store.published_now("placements") is None

    clock.advance(seconds=5)
    v2 = to_approved(store, constraints(default_timezone="Europe/Berlin"))
    assert v2 == 2
    clock.advance(seconds=5)
    store.publish("constraints", "default", 2, GRACE)
    assert statuses(graph, settings) == {1: "archived", 2: "published"}
    live = store.published_now("constraints")
    assert live is not None and live.version_key == "constraints/default@2"
    assert isinstance(live.model, ConstraintSet) and live.model.default_timezone == "Europe/Berlin"

    detail = store.get("constraints", "default")
    assert (detail.latestVersion, detail.publishedVersion, detail.publishedKey) == (2, 2, "constraints/default@2")
    assert [(v.version, v.status) for v in detail.versions] == [(1, "archived"), (2, "published")]
    assert detail.audit[0].action in ("publish", "archive") and detail.audit[-1].action == "push"
    assert [d.key for d in store.list_documents()] == ["constraints/default"]
    assert store.list_documents("placements") == []
    assert store.definition("constraints", "default", 1) == constraints()

    store.archive("constraints", "default", 2, GRACE)
    assert store.published_now("constraints") is None
    assert store.get("constraints", "default").publishedVersion is None
    actions = [(v, a) for _, v, a, _ in audit_actions(graph, settings)]
    assert actions.count((1, "archive")) == 1 and actions.count((2, "archive")) == 1
    assert [a for _, a in actions].count("push") == 2


def test_review_rules(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    store.push("constraints", constraints(), ADA)
    with pytest.raises(LifecycleError):
        store.approve("constraints", "default", 1, GRACE)  # still a draft
    store.submit("constraints", "default", 1, ADA)
    with pytest.raises(Forbidden) as caught:
        store.approve("constraints", "default", 1, Principal(name="ada", role="admin"))
    assert caught.value.reason == "self_approval"
    with pytest.raises(Forbidden):
        store.approve("constraints", "default", 1, ADA)  # authors may not approve at all
    with pytest.raises(LifecycleError):
        store.publish("constraints", "default", 1, GRACE)  # not approved yet
    with pytest.raises(NotFound):
        store.submit("constraints", "default", 9, ADA)
    with pytest.raises(NotFound):
        store.submit("placements", "default", 1, ADA)
    with pytest.raises(ConfigInvalid):
        store.submit("routes", "default", 1, ADA)
    store.approve("constraints", "default", 1, GRACE)
    store.archive("constraints", "default", 1, GRACE)
    with pytest.raises(LifecycleError):
        store.archive("constraints", "default", 1, GRACE)
    assert statuses(graph, settings) == {1: "archived"}
    assert [a for _, _, a, _ in audit_actions(graph, settings)] == ["push", "submit", "approve", "archive"]


def test_lint_errors_refuse_the_push(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    bad = constraints(caps=[{"id": "cal", "max": 1, "window": "12h", "calendar": True}])
    with pytest.raises(ConfigInvalid) as caught:
        store.push("constraints", bad, ADA)
    assert caught.value.issues[0].startswith("caps[0].window: ")
    offers = placements().model_dump(mode="json")
    offers["placements"][0]["offers"][0]["template"] = "welcome_email"
    with pytest.raises(ConfigInvalid) as caught:
        store.push("placements", PlacementSet.model_validate(offers), ADA)
    assert caught.value.issues[0].startswith("placements[0].offers[0].template: ")
    with pytest.raises(ConfigInvalid):
        store.push("constraints", placements(), ADA)
    assert rows(graph, settings, "MATCH (n) WHERE n:ConfigDocument OR n:ConfigVersion RETURN n") == []
    # warnings (journeys unknown to the graph) do not refuse it; they are kept in the audit entry
    store.push("constraints", constraints(), ADA)
    detail = store.get("constraints", "default").audit[0].detail
    assert any("priorities.abandoned-cart" in w for w in detail["warnings"])


def test_concurrent_approvals_only_one_wins(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    store.push("constraints", constraints(), ADA)
    store.submit("constraints", "default", 1, ADA)
    outcomes = race([lambda: store.approve("constraints", "default", 1, GRACE),
                     lambda: store.approve("constraints", "default", 1, HOPPER)])
    assert sorted(type(o).__name__ for o in outcomes) == ["ConfigVersionInfo", "LifecycleError"]
    assert [a for _, _, a, _ in audit_actions(graph, settings)].count("approve") == 1


def test_concurrent_publications_leave_one_published(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    to_approved(store, constraints())
    to_approved(store, constraints(default_timezone="Europe/Paris"))
    outcomes = race([lambda: store.publish("constraints", "default", 1, GRACE),
                     lambda: store.publish("constraints", "default", 2, HOPPER)])
    assert not [o for o in outcomes if isinstance(o, Exception) and not isinstance(o, LifecycleError)], outcomes
    found = statuses(graph, settings)
    assert sorted(found.values()) == ["archived", "published"]
    live = store.published_now("constraints")
    assert live is not None and found[live.version] == "published"


def test_concurrent_pushes_take_distinct_versions(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    models = [constraints(default_priority=p) for p in (10, 20, 30, 40)]
    outcomes = race([lambda m=m: store.push("constraints", m, ADA) for m in models])
    assert not [o for o in outcomes if isinstance(o, Exception)], outcomes
    assert sorted(o.version for o in outcomes) == [1, 2, 3, 4]
    assert statuses(graph, settings) == {1: "draft", 2: "draft", 3: "draft", 4: "draft"}


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at the same moment in threads; their results or exceptions."""
    barrier = threading.Barrier(len(calls))
    out: list[Any] = [None] * len(calls)

    def run(i: int) -> None:
        barrier.wait()
        try:
            out[i] = calls[i]()
        except Exception as exc:  # handed back to the test
            out[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def test_samples_load_published_and_idempotent(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    loaded = load_config_samples(store)
    assert [(v.key, v.status) for v in loaded] == [("constraints/default@1", "published"),
                                                   ("placements/default@1", "published")]
    assert [(v.key, v.status) for v in load_config_samples(store)] == [("constraints/default@1", "published"),
                                                                        ("placements/default@1", "published")]
    live = store.published_now("placements")
    assert live is not None and isinstance(live.model, PlacementSet)
    assert [p.id for p in live.model.placements] == ["home_banner", "cart_drawer"]
    authors = rows(graph, settings, "MATCH (v:ConfigVersion) RETURN v.author AS a, v.approvedBy AS b")
    assert {(r["a"], r["b"]) for r in authors} == {("sample-author", "sample-approver")}


# --- HTTP API --------------------------------------------------------------------------------------------

KEYS = {"ada": "key-ada", "grace": "key-grace", "root": "key-root"}


@pytest.fixture
def client(settings: Settings, graph: Driver) -> Iterator[TestClient]:
    keyed = settings.model_copy(update={"api_keys": [
        ApiKey("ada", "author", KEYS["ada"]), ApiKey("grace", "approver", KEYS["grace"]),
        ApiKey("root", "admin", KEYS["root"])]})
    services = make_services(keyed, graph, keyed.kafka_bootstrap or "")
    try:
        with TestClient(create_app(services)) as test_client:
            yield test_client
    finally:
        services.producer.close()


def auth(name: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[name]}"}


def test_api_lifecycle(client: TestClient, graph: Driver, settings: Settings) -> None:
    body = constraints_data()
    pushed = client.post("/v1/config/constraints", json=body, headers=auth("ada"))
    assert pushed.status_code == 201, pushed.text
    assert (pushed.json()["key"], pushed.json()["status"], pushed.json()["created"]) == \
        ("constraints/default@1", "draft", True)
    same = client.post("/v1/config/constraints", content=yaml.safe_dump(body),
                       headers={**auth("ada"), "content-type": "application/yaml"})
    assert same.status_code == 200 and not same.json()["created"]

    base = "/v1/config/constraints/default/versions/1"
    assert client.post(f"{base}/approve", headers=auth("grace")).status_code == 409  # a draft
    assert client.post(f"{base}/submit", headers=auth("ada")).json()["status"] == "in_review"
    assert client.post(f"{base}/approve", headers=auth("ada")).status_code == 403  # author role
    selfie = client.post(f"{base}/approve", headers=auth("root"))
    assert selfie.status_code == 200  # root did not push it
    assert client.post(f"{base}/publish", headers=auth("ada")).status_code == 403
    published = client.post(f"{base}/publish", headers=auth("grace"))
    assert published.status_code == 200 and published.json()["status"] == "published"

    listed = client.get("/v1/config/constraints", headers=auth("ada"))
    assert [(d["key"], d["publishedVersion"]) for d in listed.json()] == [("constraints/default", 1)]
    detail = client.get("/v1/config/constraints/default", headers=auth("ada")).json()
    assert [a["action"] for a in detail["audit"]] == ["publish", "approve", "submit", "push"]
    one = client.get(f"{base}", headers=auth("ada"))
    assert one.status_code == 200 and one.json()["document"]["caps"][0]["window"] == "1d"
    assert client.get("/v1/config/constraints/nope", headers=auth("ada")).status_code == 404
    assert client.get("/v1/config/routes", headers=auth("ada")).status_code == 422
    assert client.post("/v1/config/constraints/default/versions/7/submit", headers=auth("ada")).status_code == 404
    assert client.post(f"{base}/archive", headers=auth("grace")).json()["status"] == "archived"
    assert client.get("/v1/config/constraints", headers=auth("ada")).json()[0]["publishedVersion"] is None


def test_api_self_approval_and_keys(client: TestClient) -> None:
    assert client.get("/v1/config/constraints").status_code == 401
    assert client.post("/v1/config/placements", json={"id": "default"}, headers=auth("root")).status_code == 201
    client.post("/v1/config/placements/default/versions/1/submit", headers=auth("root"))
    refused = client.post("/v1/config/placements/default/versions/1/approve", headers=auth("root"))
    assert refused.status_code == 403 and refused.json()["reason"] == "self_approval"


def test_api_invalid_documents_are_400_naming_fields(client: TestClient, graph: Driver, settings: Settings) -> None:
    caps = constraints_data()["caps"]
    caps[1] = {**caps[1], "window": "soon"}
    bad = client.post("/v1/config/constraints", json=constraints_data(caps=caps), headers=auth("ada"))
    assert bad.status_code == 400 and bad.json()["issues"][0].startswith("caps[1].window: ")
    lint_refused = client.post("/v1/config/constraints", headers=auth("ada"),
                               json=constraints_data(caps=[{"id": "c", "max": 1, "window": "2h", "calendar": True}]))
    assert lint_refused.status_code == 400
    assert lint_refused.json()["lint"][0]["path"] == "caps[0].window"
    garbage = client.post("/v1/config/placements", content="id: [", headers={**auth("ada"),
                                                                             "content-type": "application/yaml"})
    assert garbage.status_code == 400 and garbage.json()["reason"] == "syntax_error"
    assert rows(graph, settings, "MATCH (d:ConfigDocument) RETURN d") == []


def test_api_lint(client: TestClient) -> None:
    ok = client.post("/v1/config/placements/lint", json=placements().model_dump(mode="json"), headers=auth("ada"))
    assert ok.status_code == 200 and ok.json()["ok"] is True and ok.json()["id"] == "default"
    data = placements().model_dump(mode="json")
    data["placements"][0]["offers"][0]["template"] = "nope"
    found = client.post("/v1/config/placements/lint", json=data, headers=auth("ada")).json()
    assert not found["ok"] and found["issues"][0]["path"] == "placements[0].offers[0].template"
    shape = client.post("/v1/config/constraints/lint", json={"caps": [{"id": "x"}]}, headers=auth("ada")).json()
    assert not shape["ok"] and {i["path"] for i in shape["issues"]} == {"caps[0].max", "caps[0].window"}
    warned = client.post("/v1/config/constraints/lint", json=constraints_data(), headers=auth("ada")).json()
    assert warned["ok"] and {i["code"] for i in warned["issues"]} == {"unknown_journey"}  # no journeys in the graph


# --- CLI -------------------------------------------------------------------------------------------------

runner = CliRunner()


def test_cli_lint_and_validate(tmp_path: Any) -> None:
    for kind in ("constraints", "placements"):
        result = runner.invoke(cli_app, ["config", "lint", kind, str(example_path(kind))])
        assert result.exit_code == 0 and "ok" in result.output, result.output
        assert runner.invoke(cli_app, ["config", "validate", kind, str(example_path(kind))]).exit_code == 0
    broken = tmp_path / "broken.yaml"
    broken.write_text(yaml.safe_dump(constraints_data(caps=[{"id": "z", "max": 0, "window": "1d", "scope": {
        "journey": "ghost"}}, {"id": "y", "max": 1, "window": "3h", "calendar": True}])))
    result = runner.invoke(cli_app, ["config", "lint", "constraints", str(broken)])
    assert result.exit_code == 1
    assert "caps[1].window" in result.output and "cap_zero" in result.output and "caps[0].scope.journey" in \
        result.output
    assert runner.invoke(cli_app, ["config", "lint", "routes", str(broken)]).exit_code == 2
    assert runner.invoke(cli_app, ["config", "lint", "placements", str(example_path("constraints"))]).exit_code == 1


def test_cli_graph_commands(settings: Settings, graph: Driver, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
                            ) -> None:
    for name, value in {"NEO4J_URI": settings.neo4j_uri or "", "NEO4J_USER": settings.neo4j_user,
                        "NEO4J_PASSWORD": settings.neo4j_password, "NEO4J_DATABASE": settings.neo4j_database}.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    file = tmp_path / "constraints.yaml"
    file.write_text(yaml.safe_dump(constraints_data()))
    try:
        def cli(*args: str) -> Any:
            return runner.invoke(cli_app, ["config", *args])

        assert cli("push", "constraints", str(file), "--as", "ada", "--role", "author").exit_code == 0
        assert "unchanged" in cli("push", "constraints", str(file), "--as", "ada").output
        assert cli("submit", "constraints", "default", "1", "--as", "ada").exit_code == 0
        refused = cli("approve", "constraints", "default", "1", "--as", "ada")
        assert refused.exit_code == 1 and "different principal" in refused.output
        assert cli("publish", "constraints", "default", "1", "--as", "grace").exit_code == 1  # in_review
        assert cli("approve", "constraints", "default", "1", "--as", "grace", "--role", "approver").exit_code == 0
        assert cli("publish", "constraints", "default", "1", "--as", "grace").exit_code == 0
        shown = cli("show", "constraints", "default")
        assert shown.exit_code == 0 and "published" in shown.output and "grace" in shown.output
        content = cli("show", "constraints", "default", "--version", "1")
        assert content.exit_code == 0 and yaml.safe_load(content.output)["caps"][0]["window"] == "1d"
        listed = cli("list")
        assert listed.exit_code == 0 and "constraints" in listed.output
        assert cli("archive", "constraints", "default", "1", "--as", "ada", "--role", "author").exit_code == 1
        assert cli("archive", "constraints", "default", "1", "--as", "root").exit_code == 0
        assert cli("submit", "placements", "default", "1", "--as", "ada").exit_code == 1
        assert cli("push", "constraints", str(file), "--as", "ada", "--role", "owner").exit_code == 2
        bad = tmp_path / "bad.yaml"
        bad.write_text(yaml.safe_dump(constraints_data(caps=[{"id": "c", "max": 1, "window": "2h",
                                                              "calendar": True}])))
        refused = cli("push", "constraints", str(bad), "--as", "ada")
        assert refused.exit_code == 1 and "caps[0].window" in refused.output
    finally:
        get_settings.cache_clear()
    assert statuses(graph, settings) == {1: "archived"}
    assert [a for _, _, a, _ in audit_actions(graph, settings)] == ["push", "submit", "approve", "publish",
                                                                     "archive"]


# --- the example queries of cypher/README.md ("Constraints and placements") --------------------------------

README_QUERIES = {
    "rules": """
MATCH (d:ConfigDocument {key: 'constraints/default'})
MATCH (v:ConfigVersion {key: d.publishedKey})-[:HAS_CONSTRAINT]->(k:Constraint)
OPTIONAL MATCH (k)-[:ON_CHANNEL]->(c:Channel)
RETURN v.key AS version, k.constraintId AS rule, k.name AS meaning, collect(c.channelId) AS channels
ORDER BY rule""",
    "history": """
MATCH (:ConfigDocument {key: 'placements/default'})-[:HAS_VERSION]->(v:ConfigVersion)-[:AUDITED]->(a:AuditEntry)
RETURN v.version AS version, v.status AS status, a.action AS action, a.principal AS who, a.role AS role,
       datetime({epochMillis: a.atMs}) AS at, a.detail AS detail
ORDER BY a.atMs DESC, a.seq DESC""",
    "offers": """
MATCH (d:ConfigDocument {key: 'placements/default'})
MATCH (:ConfigVersion {key: d.publishedKey})-[:HAS_PLACEMENT]->(p:Placement {placementId: 'home_banner'})
MATCH (p)-[:OFFERS]->(o:Offer)
RETURN o.offerId AS offer, o.template AS template, o.priority AS priority, o.score AS score, o.when AS eligibleWhen
ORDER BY priority DESC, score DESC""",
}


def test_readme_queries(store: ConfigStore, graph: Driver, settings: Settings) -> None:
    load_config_samples(store)
    rules = rows(graph, settings, README_QUERIES["rules"])
    assert len(rules) == 19 and {r["version"] for r in rules} == {"constraints/default@1"}
    assert next(r for r in rules if r["rule"] == "cap:email-daily")["channels"] == ["email"]
    history = rows(graph, settings, README_QUERIES["history"])
    assert [h["action"] for h in history] == ["publish", "approve", "submit", "push"]
    offers = rows(graph, settings, README_QUERIES["offers"])
    assert [o["offer"] for o in offers] == ["upgrade-banner", "welcome-back"]
