"""The graph explorer's server side: read-only Cypher (a conservative write-clause guard plus a READ
transaction, a row and a time limit), the `cypher/debug` catalogue, a decision's neighbourhood as nodes and
edges, and a person's deliveries."""

from __future__ import annotations

import datetime as dt
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from neo4j import Driver, ManagedTransaction, unit_of_work
from neo4j.exceptions import ClientError, DatabaseError
from neo4j.graph import Node, Path, Relationship

from app.decisions.people import find_person
from app.errors import PermanentError
from app.graph.queries import CYPHER_DIR, query
from graph_models.explain import DecisionView

MAX_ROWS = 1000
DEFAULT_ROWS = 200
TIMEOUT_S = 10.0
MAX_QUERY_CHARS = 20_000

# Clauses and commands that write, call procedures, load files or administer: refused outright.
WRITE_WORDS = frozenset({
    "CREATE", "MERGE", "SET", "DELETE", "DETACH", "REMOVE", "DROP", "CALL", "LOAD", "FOREACH", "ALTER",
    "GRANT", "DENY", "REVOKE", "RENAME", "START", "STOP", "TERMINATE", "ENABLE", "USE", "IMPORT", "FINISH",
})
_STRING = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"", re.S)
_COMMENT = re.compile(r"//[^\n]*|/\*.*?\*/", re.S)
_BACKTICK = re.compile(r"`(?:[^`]|``)*`")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


class RefusedQuery(PermanentError):
    """The query is not a plain read (or is empty, too long, or several statements)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="refused_query")


class QueryFailed(PermanentError):
    """The graph server rejected the query (syntax, types, timeout)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, reason="query_failed")


def strip_literals(text: str) -> str:
    """The query with string literals, comments and backtick-quoted names blanked out (what the guard reads)."""
    text = _COMMENT.sub(" ", _STRING.sub("''", text))
    # a comment marker inside a string was blanked with the string; strings inside comments went with them
    return _BACKTICK.sub("``", text)


def check_read_only(text: str) -> str:
    """The query, stripped of a trailing `;`, when it is a single read statement; else RefusedQuery.

    Conservative: any write or procedure keyword outside strings and comments refuses the query, even where
    a read would be harmless (a property named `set` must be written with backticks).
    """
    if len(text) > MAX_QUERY_CHARS:
        raise RefusedQuery(f"the query is longer than {MAX_QUERY_CHARS} characters")
    bare = strip_literals(text).strip()
    if not bare:
        raise RefusedQuery("the query is empty")
    if ";" in bare.rstrip(";").rstrip():
        raise RefusedQuery("one statement at a time (no `;` between statements)")
    found = sorted({w.upper() for w in _WORD.findall(bare)} & WRITE_WORDS)
    if found:
        raise RefusedQuery(f"read-only: {', '.join(found)} is not allowed here (MATCH ... RETURN only)")
    return text.strip().rstrip(";").rstrip()


def to_json(value: Any, graph: GraphParts | None = None) -> Any:
    """A driver value as JSON: nodes as {labels, properties}, relationships as {type, properties}, paths
    as lists, temporals as ISO text; nodes and relationships are also collected into `graph` for drawing."""
    if isinstance(value, Node):
        if graph is not None:
            graph.node(value)
        return {"labels": sorted(value.labels), "properties": to_json(dict(value))}
    if isinstance(value, Relationship):
        if graph is not None:
            graph.edge(value)
        return {"type": value.type, "properties": to_json(dict(value))}
    if isinstance(value, Path):
        return [to_json(r, graph) for r in value.relationships] or [to_json(n, graph) for n in value.nodes]
    if isinstance(value, Mapping):
        return {str(k): to_json(v, graph) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v, graph) for v in value]
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    iso = getattr(value, "iso_format", None)  # neo4j.time types
    return iso() if callable(iso) else str(value)


NAME_PROPS = ("name", "userId", "event", "journeyId", "constraintId", "key", "stepId", "channelId", "listId",
              "decisionId", "deliveryId", "actionId", "messageId", "personId", "sessionId", "enrollmentId")


def caption(labels: list[str], props: Mapping[str, Any]) -> str:
    """A short label for a drawn node: its kind and its most telling property."""
    for name in NAME_PROPS:
        if props.get(name) not in (None, ""):
            text = str(props[name])
            return f"{labels[0] if labels else 'node'}\n{text[:32]}"
    return labels[0] if labels else "node"


@dataclass
class GraphParts:
    """Nodes and edges to draw (ids are the driver's element ids or ids made from unique keys)."""

    nodes: dict[str, dict[str, Any]] = field(default_factory=dict)
    edges: dict[str, dict[str, Any]] = field(default_factory=dict)

    def add(self, node_id: str, kind: str, label: str, data: Mapping[str, Any] | None = None) -> None:
        self.nodes.setdefault(node_id, {"id": node_id, "kind": kind, "label": label, "data": dict(data or {})})

    def link(self, source: str, target: str, kind: str, data: Mapping[str, Any] | None = None) -> None:
        if source in self.nodes and target in self.nodes:
            edge_id = f"{source}-{kind}-{target}"
            self.edges.setdefault(edge_id, {"id": edge_id, "source": source, "target": target, "kind": kind,
                                            "data": dict(data or {})})

    def node(self, n: Node) -> str:
        labels = sorted(n.labels)
        props = to_json(dict(n))
        self.add(n.element_id, labels[0] if labels else "node", caption(labels, props), props)
        return n.element_id

    def edge(self, r: Relationship) -> None:
        if r.start_node is None or r.end_node is None:
            return
        source, target = self.node(r.start_node), self.node(r.end_node)
        self.link(source, target, r.type, to_json(dict(r)))

    def as_json(self) -> dict[str, Any]:
        return {"nodes": list(self.nodes.values()), "edges": list(self.edges.values())}


def decision_graph(d: DecisionView) -> dict[str, Any]:
    """A decision's neighbourhood (person, trigger, candidates, blocking constraints, versions) as nodes and
    edges (pure; from `GET /v1/decisions/{id}`'s view)."""
    g = GraphParts()
    did = f"decision:{d.decisionId}"
    g.add(did, "Decision", f"Decision\n{d.kind or ''} {d.at or ''}".strip(), {
        "decisionId": d.decisionId, "trigger": d.trigger, "constraintVersion": d.constraintVersion,
        "chosenCount": d.chosenCount})
    if d.personId:
        g.add(f"person:{d.personId}", "Person", f"Person\n{d.userId or d.personId[:8]}",
              {"personId": d.personId, "userId": d.userId})
        g.link(did, f"person:{d.personId}", "FOR")
    if d.triggerEvent is not None:
        e = d.triggerEvent
        g.add(f"event:{e.messageId}", "Event", f"Event\n{e.event or e.type or e.messageId}", e.model_dump())
        g.link(did, f"event:{e.messageId}", "TRIGGERED_BY")
    for cv in d.configVersions:
        g.add(f"config:{cv.key}", "ConfigVersion", f"ConfigVersion\n{cv.key}", cv.model_dump())
        g.link(did, f"config:{cv.key}", "UNDER")
    for jv in d.journeyVersions:
        g.add(f"journey:{jv.key}", "JourneyVersion", f"JourneyVersion\n{jv.key}", jv.model_dump())
        g.link(did, f"journey:{jv.key}", "IN_VERSION")
    for c in d.candidates:
        aid = f"action:{c.actionId}"
        what = f"{c.journeyId}/{c.stepId}" if c.journeyId else f"offer {c.offerId}"
        g.add(aid, "Chosen" if c.chosen else "Candidate", f"#{c.rank} {what}\n{c.channel or ''}: {c.outcome}",
              {"actionId": c.actionId, "outcome": c.outcome, "reason": c.reason, "sentence": c.sentence,
               "channel": c.channel, "template": c.template})
        g.link(did, aid, "CHOSE" if c.chosen else "CONSIDERED", {"rank": c.rank, "outcome": c.outcome})
        if c.journeyId and c.version is not None:
            g.link(aid, f"journey:{c.journeyId}@{c.version}", "FROM_VERSION")
        if c.blockedBy is not None:
            k = c.blockedBy
            kid = f"constraint:{k.key or k.constraintId}"
            g.add(kid, "Constraint", f"Constraint\n{k.constraintId}", k.model_dump())
            g.link(aid, kid, "BLOCKED_BY")
            version = (k.key or "").rsplit("/", 1)[0]
            g.link(f"config:{version}", kid, "HAS_CONSTRAINT")
    return g.as_json()


_PARAM = re.compile(r"^//\s*:param\s+(\w+)\s*=>\s*(.+?)\s*$")


def debug_queries() -> list[dict[str, Any]]:
    """The `cypher/debug/*.cypher` files: name, header comment (description), parameters with their
    example values (from `:param name => value` lines), and the text."""
    found = []
    for path in sorted((CYPHER_DIR / "debug").glob("*.cypher")):
        text = path.read_text(encoding="utf-8")
        header: list[str] = []
        params: list[dict[str, str]] = []
        for line in text.splitlines():
            if not line.strip().startswith("//"):
                break
            match = _PARAM.match(line.strip())
            if match:
                example = match.group(2).split("//")[0].strip()
                params.append({"name": match.group(1), "example": example})
            else:
                header.append(line.strip()[2:].strip())
        found.append({"name": path.stem, "description": " ".join(h for h in header if h), "params": params,
                      "text": text})
    return found


@dataclass
class QueryResult:
    columns: list[str]
    rows: list[list[Any]]
    truncated: bool
    elapsedMs: int
    graph: dict[str, Any]


class Explorer:
    """Read-only access for the explorer page (the driver is owned by the caller)."""

    def __init__(self, driver: Driver, database: str) -> None:
        self.driver = driver
        self.database = database

    def run_read(self, text: str, params: Mapping[str, Any] | None = None, limit: int = DEFAULT_ROWS,
                 timeout_s: float = TIMEOUT_S) -> QueryResult:
        """Run one read query in a READ transaction: at most `limit` rows, `timeout_s` on the server."""
        checked = check_read_only(text)
        limit = max(1, min(limit, MAX_ROWS))
        started = time.monotonic()

        @unit_of_work(timeout=timeout_s)  # the server ends the transaction after this long
        def work(tx: ManagedTransaction) -> QueryResult:
            graph = GraphParts()
            result = tx.run(checked, dict(params or {}))
            columns = list(result.keys())
            rows: list[list[Any]] = []
            truncated = False
            for record in result:
                if len(rows) == limit:
                    truncated = True
                    break
                rows.append([to_json(v, graph) for v in record.values()])
                if time.monotonic() - started > timeout_s:
                    truncated = True
                    break
            result.consume()
            return QueryResult(columns, rows, truncated, int((time.monotonic() - started) * 1000), graph.as_json())

        try:
            with self.driver.session(database=self.database, fetch_size=limit + 1) as session:
                return session.execute_read(work)
        except (ClientError, DatabaseError) as exc:  # syntax, types, timeout: the query's fault
            raise QueryFailed(f"{exc.code}: {exc.message}"[:1000]) from exc

    def deliveries(self, ref: str, limit: int = 50) -> list[dict[str, Any]] | None:
        """A person's deliveries, newest first; None for an unknown person."""

        def work(tx: ManagedTransaction) -> list[dict[str, Any]] | None:
            person_id = find_person(tx, ref)
            if person_id is None:
                return None
            return [r.data() for r in tx.run(query("explore/person_deliveries"), personId=person_id, limit=limit)]

        with self.driver.session(database=self.database) as session:
            return session.execute_read(work)
