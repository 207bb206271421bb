// Journeys graph explorer: plain JS, no build step. The API key is kept in sessionStorage only.
(function () {
  "use strict";
  var KEY = "journeys.explorer.key";
  var $ = function (id) { return document.getElementById(id); };
  var COLORS = {
    Decision: "#f2a900", Person: "#2f6fde", Event: "#7a53c7", Candidate: "#9aa5b1", Chosen: "#1e9e5a",
    Constraint: "#d64545", ConfigVersion: "#0f8b8d", JourneyVersion: "#e07b24", Session: "#5c7cfa",
    Enrollment: "#c2255c", Identity: "#495057", ActionRequest: "#9aa5b1", Delivery: "#2b8a3e", Step: "#e8590c"
  };
  var cy = null;

  function key() { return sessionStorage.getItem(KEY) || ""; }
  function status(text) { $("status").textContent = text || ""; }

  function api(method, path, body) {
    var init = { method: method, headers: { "Authorization": "Bearer " + key() } };
    if (body !== undefined) {
      init.headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    return fetch(path, init).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) {
          var msg = (data && (data.error || data.detail)) || res.statusText;
          throw new Error(res.status + ": " + (typeof msg === "string" ? msg : JSON.stringify(msg)));
        }
        return data;
      });
    });
  }

  function cell(row, text, cls) {
    var td = document.createElement("td");
    td.textContent = text === undefined || text === null ? "" : String(text);
    if (cls) { td.className = cls; }
    row.appendChild(td);
    return td;
  }

  // --- the graph -----------------------------------------------------------------------------------------
  function draw(graph, title, root) {
    $("graph-title").textContent = title;
    var elements = [];
    (graph.nodes || []).forEach(function (n) {
      elements.push({ group: "nodes", data: { id: n.id, label: n.label, kind: n.kind, props: n.data,
        color: COLORS[n.kind] || "#868e96" } });
    });
    (graph.edges || []).forEach(function (e) {
      elements.push({ group: "edges", data: { id: e.id, source: e.source, target: e.target, label: e.kind,
        props: e.data } });
    });
    if (cy) { cy.destroy(); }
    cy = cytoscape({
      container: $("graph"),
      elements: elements,
      style: [
        { selector: "node", style: { "background-color": "data(color)", "label": "data(label)", "color": "#1d2330",
          "font-size": 10, "text-wrap": "wrap", "text-max-width": 140, "text-valign": "bottom", "text-margin-y": 4,
          "width": 34, "height": 34, "border-width": 2, "border-color": "#ffffff" } },
        { selector: "edge", style: { "width": 2, "line-color": "#adb5bd", "target-arrow-color": "#adb5bd",
          "target-arrow-shape": "triangle", "curve-style": "bezier", "label": "data(label)", "font-size": 8,
          "color": "#566", "text-rotation": "autorotate" } },
        { selector: "edge[label = 'CHOSE']", style: { "line-color": "#1e9e5a", "target-arrow-color": "#1e9e5a",
          "width": 3 } },
        { selector: "edge[label = 'BLOCKED_BY']", style: { "line-color": "#d64545", "target-arrow-color": "#d64545" } },
        { selector: ":selected", style: { "border-color": "#111", "border-width": 3 } }
      ],
      layout: root ? { name: "breadthfirst", directed: true, roots: [root], spacingFactor: 1.1, animate: false,
                       padding: 20 }
                   : { name: "cose", animate: false, padding: 20 },
      wheelSensitivity: 0.3
    });
    cy.on("tap", "node, edge", function (evt) {
      $("details").textContent = evt.target.data("label").replace("\n", " ") + "\n" +
        JSON.stringify(evt.target.data("props"), null, 1);
    });
    document.body.setAttribute("data-graph-nodes", String((graph.nodes || []).length));
  }

  function drawDecision(id) {
    if (!id) { return Promise.resolve(); }
    $("decision").value = id;
    return api("GET", "/v1/explore/decisions/" + encodeURIComponent(id) + "/graph").then(function (g) {
      draw(g, "Decision " + id, "decision:" + id);
    }).catch(function (err) { status("decision: " + err.message); });
  }

  // --- a person's timeline --------------------------------------------------------------------------------
  function showPerson(ref, drawFirst) {
    if (!ref) { return Promise.resolve(); }
    $("person").value = ref;
    status("");
    var path = "/v1/people/" + encodeURIComponent(ref);
    return Promise.all([
      api("GET", path + "/timeline?limit=200"),
      api("GET", "/v1/explore/people/" + encodeURIComponent(ref) + "/deliveries?limit=100")
        .catch(function () { return []; })
    ]).then(function (both) {
      var page = both[0], deliveries = both[1];
      var items = page.items.slice();
      deliveries.forEach(function (d) {
        items.push({ atMs: d.atMs, at: new Date(d.atMs).toISOString(), kind: "delivery", id: d.deliveryId,
          summary: d.channel + " " + (d.template || "") + ": " + d.status +
            (d.lastEvent ? " (" + d.lastEvent + ")" : ""), data: d });
      });
      items.sort(function (a, b) { return b.atMs - a.atMs; });
      $("person-title").textContent = "Timeline of " + (page.person.userId || page.person.personId) +
        " (" + page.person.personId + ")";
      var body = $("timeline").tBodies[0];
      body.innerHTML = "";
      var firstDecision = null;
      items.forEach(function (it) {
        var row = document.createElement("tr");
        row.className = "kind-" + it.kind;
        cell(row, (it.at || "").replace("T", " ").slice(0, 19), "when");
        cell(row, it.kind);
        cell(row, it.summary);
        if (it.kind === "decision") {
          if (!firstDecision) { firstDecision = it.id; }
          row.title = "draw decision " + it.id;
          row.addEventListener("click", function () { drawDecision(it.id); });
        }
        body.appendChild(row);
      });
      document.body.setAttribute("data-timeline-rows", String(items.length));
      if (drawFirst && firstDecision) { return drawDecision(firstDecision); }
    }).catch(function (err) { status("person: " + err.message); });
  }

  // --- read-only Cypher -----------------------------------------------------------------------------------
  function exampleValue(text) {
    var t = text.trim();
    if (/^'.*'$/.test(t)) { return t.slice(1, -1); }
    try { return JSON.parse(t); } catch (e) { return t; }
  }

  function loadDebugQueries() {
    return api("GET", "/v1/explore/debug-queries").then(function (list) {
      list.forEach(function (q) {
        var b = document.createElement("button");
        b.textContent = q.name;
        b.title = q.description;
        b.addEventListener("click", function () {
          var params = {};
          q.params.forEach(function (p) { params[p.name] = exampleValue(p.example); });
          var ref = $("person").value.trim();
          if (ref && params.userId !== undefined && ref.indexOf(":") < 0) { params.userId = ref; }
          if ($("decision").value && params.decisionId !== undefined) { params.decisionId = $("decision").value; }
          $("query").value = q.text;
          $("params").value = JSON.stringify(params, null, 1);
          runQuery();
        });
        $("debug-list").appendChild(b);
      });
    }).catch(function (err) { status("debug queries: " + err.message); });
  }

  function runQuery() {
    var params;
    try { params = JSON.parse($("params").value || "{}"); } catch (e) {
      $("query-info").className = "error"; $("query-info").textContent = "params: not JSON"; return;
    }
    $("query-info").className = ""; $("query-info").textContent = "running...";
    api("POST", "/v1/explore/cypher", { query: $("query").value, params: params,
      limit: parseInt($("limit").value, 10) || 200 }).then(function (r) {
      $("query-info").textContent = r.rows.length + " row(s)" + (r.truncated ? " (cut off at the limit)" : "") +
        " in " + r.elapsedMs + " ms";
      var table = document.createElement("table");
      var head = document.createElement("tr");
      r.columns.forEach(function (c) { var th = document.createElement("th"); th.textContent = c; head.appendChild(th); });
      table.appendChild(head);
      r.rows.forEach(function (row) {
        var tr = document.createElement("tr");
        row.forEach(function (v) { cell(tr, typeof v === "object" && v !== null ? JSON.stringify(v) : v); });
        table.appendChild(tr);
      });
      $("results").innerHTML = "";
      $("results").appendChild(table);
      if (r.graph && r.graph.nodes && r.graph.nodes.length) { draw(r.graph, "Query result", null); }
    }).catch(function (err) { $("query-info").className = "error"; $("query-info").textContent = err.message; });
  }

  // --- start ----------------------------------------------------------------------------------------------
  function start() {
    var url = new URL(window.location.href);
    var fromUrl = url.searchParams.get("key");
    if (fromUrl) {
      sessionStorage.setItem(KEY, fromUrl);
      url.searchParams.delete("key");
      window.history.replaceState(null, "", url.pathname + (url.search || ""));
    }
    $("key-state").textContent = key() ? "key set" : "no key yet";
    $("key-form").addEventListener("submit", function (e) {
      e.preventDefault();
      sessionStorage.setItem(KEY, $("key").value.trim());
      $("key").value = "";
      $("key-state").textContent = key() ? "key set" : "no key yet";
      loadDebugQueries();
    });
    $("person-form").addEventListener("submit", function (e) { e.preventDefault(); showPerson($("person").value.trim(), true); });
    $("decision-form").addEventListener("submit", function (e) { e.preventDefault(); drawDecision($("decision").value.trim()); });
    $("run").addEventListener("click", runQuery);
    if (!key()) { status("Type a journey API key (Bearer) above; it stays in this tab only."); return; }
    loadDebugQueries();
    var person = url.searchParams.get("person"), decision = url.searchParams.get("decision");
    var query = url.searchParams.get("query");
    if (query) { $("query").value = query; runQuery(); }
    showPerson(person, !decision).then(function () { return drawDecision(decision); });
  }

  start();
}());
