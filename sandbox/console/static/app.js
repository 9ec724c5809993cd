// The Skiff sandbox console: plain JavaScript, no library, no network but this server.
// Pages are drawn from the JSON API (/api/...); running executions are polled, never reloaded.
"use strict";

const SVG_NS = "http://www.w3.org/2000/svg";
const TERMINAL = new Set(["succeeded", "failed", "aborted", "interrupted"]);
const POLL_MS = 1000;
const LIST_REFRESH_MS = 3000;
const STATES = ["queued", "running", "succeeded", "failed", "aborted", "interrupted"];

let timers = [];         // cleared whenever another page is drawn
let pageToken = 0;       // a page's pollers stop once another page is drawn

// ---- small helpers ---------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "class") el.className = v;
    else if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function s(tag, attrs, ...children) {
  const el = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v);
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

function put(el, ...children) {
  // replaceChildren, minus the nulls that optional parts leave (it would print "null")
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function add(el, ...children) {
  el.append(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

function link(href, ...children) {
  return h("a", {href, "data-nav": true}, ...children);
}

function buttonLink(href, text) {
  return h("a", {href, "data-nav": true, class: "button"}, text);
}

function badge(state) {
  return h("span", {class: "badge " + state, "data-state": state}, state || "unknown");
}

function fmtTime(iso) {
  if (!iso) return "—";
  const d = new Date(iso);
  return d.toLocaleString(undefined, {year: "numeric", month: "short", day: "numeric",
                                      hour: "2-digit", minute: "2-digit", second: "2-digit"});
}

function fmtDuration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 1) return (seconds * 1000).toFixed(0) + " ms";
  if (seconds < 60) return seconds.toFixed(1) + " s";
  const m = Math.floor(seconds / 60), sec = Math.round(seconds % 60);
  if (m < 60) return `${m}m ${sec}s`;
  return `${Math.floor(m / 60)}h ${m % 60}m`;
}

function showBanner(message) {
  const banner = document.getElementById("banner");
  banner.textContent = message;
  banner.classList.toggle("hidden", !message);
}

async function api(path) {
  const response = await fetch("/api" + path, {credentials: "same-origin"});
  const body = await response.json().catch(() => ({error: response.statusText}));
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}

async function post(path, body) {
  const csrf = document.querySelector("meta[name=csrf]").content;
  const response = await fetch("/api" + path, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/json", "X-Skiff-CSRF": csrf},
    body: JSON.stringify(body || {}),
  });
  const answer = await response.json().catch(() => ({error: response.statusText}));
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

function every(ms, fn) {
  const token = pageToken;
  let busy = false;
  const id = setInterval(async () => {
    if (token !== pageToken || busy) return;
    busy = true;
    try { await fn(); } catch (err) { showBanner(err.message); } finally { busy = false; }
  }, ms);
  timers.push(id);
  return id;
}

function enc(part) { return encodeURIComponent(part); }

// ---- routing ---------------------------------------------------------------------------------

function navigate(url, replace) {
  if (replace) history.replaceState(null, "", url); else history.pushState(null, "", url);
  route();
}

document.addEventListener("click", (event) => {
  const a = event.target.closest("a[data-nav]");
  if (!a || event.ctrlKey || event.metaKey || event.shiftKey || event.button !== 0) return;
  event.preventDefault();
  navigate(a.getAttribute("href"));
});
window.addEventListener("popstate", () => route());

async function route() {
  timers.forEach(clearInterval);
  timers = [];
  pageToken += 1;
  showBanner("");
  const path = location.pathname;
  const parts = path.split("/").filter(Boolean).map(decodeURIComponent);
  const section = parts[0] || "executions";
  document.querySelectorAll("header nav a").forEach(
    (a) => a.classList.toggle("active", a.dataset.section === section ||
                                        (section === "launch" && a.dataset.section === "entities")));
  const main = document.getElementById("main");
  const page = h("div", {class: "page"});
  put(main, page);
  try {
    if (section === "executions" && parts.length === 1) await executionsPage(page);
    else if (section === "executions" && parts.length === 2) await executionPage(page, parts[1]);
    else if (section === "executions" && parts[2] === "nodes") await nodePage(page, parts[1], parts[3]);
    else if (section === "entities" && parts.length === 1) await entitiesPage(page);
    else if (section === "entities") await entityPage(page, parts[1], parts[2], parts[3], parts[4]);
    else if (section === "launch") await launchPage(page, parts[1], parts[2], parts[3]);
    else if (section === "cache") await cachePage(page);
    else if (section === "reproductions") await reproductionsPage(page);
    else add(page, h("p", {}, "No such page. ", link("/executions", "Executions")));
  } catch (err) {
    add(page, h("div", {class: "error-box"}, err.message));
  }
}

// ---- executions list -------------------------------------------------------------------------

async function executionsPage(page) {
  document.title = "Executions · Skiff";
  const params = new URLSearchParams(location.search);
  const projects = await api("/projects");
  const project = h("select", {name: "project"}, h("option", {value: ""}, "all"),
                    projects.map((p) => h("option", {value: p.id}, p.id)));
  const domain = h("select", {name: "domain"}, h("option", {value: ""}, "all"),
                   ["development", "staging", "production"].map((d) => h("option", {value: d}, d)));
  const state = h("select", {name: "state"}, h("option", {value: ""}, "all"),
                  STATES.map((st) => h("option", {value: st}, st)));
  const workflow = h("input", {name: "workflow", placeholder: "workflow or launch plan name",
                               size: 30});
  project.value = params.get("project") || "";
  domain.value = params.get("domain") || "";
  state.value = params.get("state") || "";
  workflow.value = params.get("workflow") || "";
  let pageNumber = parseInt(params.get("page") || "1", 10);
  const apply = () => {
    const q = new URLSearchParams();
    for (const field of [project, domain, state, workflow]) if (field.value) q.set(field.name, field.value);
    if (pageNumber > 1) q.set("page", pageNumber);
    history.replaceState(null, "", "/executions" + (q.toString() ? "?" + q : ""));
    return load();
  };
  for (const field of [project, domain, state]) field.addEventListener("change", () => { pageNumber = 1; apply(); });
  workflow.addEventListener("input", () => { pageNumber = 1; apply(); });
  const tbody = h("tbody");
  const info = h("span", {class: "muted"});
  const prev = h("button", {class: "secondary", onclick: () => { pageNumber -= 1; apply(); }}, "‹ Newer");
  const next = h("button", {class: "secondary", onclick: () => { pageNumber += 1; apply(); }}, "Older ›");
  add(page, 
    h("div", {class: "graph-bar"}, h("h1", {}, "Executions"),
      buttonLink("/entities", "Launch a launch plan…")),
    h("div", {class: "filters"},
      h("label", {}, "Project", project), h("label", {}, "Domain", domain),
      h("label", {}, "State", state), h("label", {}, "Workflow", workflow),
      h("span", {class: "muted"}, "updates by itself")),
    h("table", {id: "executions"},
      h("thead", {}, h("tr", {}, ["Execution", "State", "Workflow / launch plan", "Project / domain",
                                   "Version", "Started", "Duration"].map((t) => h("th", {}, t)))),
      tbody),
    h("div", {class: "pager"}, prev, info, next));

  async function load() {
    const q = new URLSearchParams({page: pageNumber, size: 50});
    for (const field of [project, domain, state, workflow]) if (field.value) q.set(field.name, field.value);
    const data = await api("/executions?" + q);
    pageNumber = data.page;
    info.textContent = `page ${data.page} of ${data.pages} · ${data.total} executions`;
    prev.disabled = data.page <= 1;
    next.disabled = data.page >= data.pages;
    put(tbody, ...data.items.map((e) => {
      const href = "/executions/" + enc(e.id);
      return h("tr", {class: "row-link", "data-id": e.id, onclick: (ev) => {
                 if (!ev.target.closest("a")) navigate(href); }},
        h("td", {class: "mono"}, link(href, e.id)),
        h("td", {}, badge(e.state)),
        h("td", {}, e.launch_plan && e.launch_plan !== e.workflow
          ? [e.workflow, h("div", {class: "muted"}, "launch plan " + e.launch_plan)] : e.workflow),
        h("td", {}, `${e.project} / ${e.domain}`),
        h("td", {class: "mono"}, e.version),
        h("td", {}, fmtTime(e.started || e.created)),
        h("td", {}, fmtDuration(e.duration)));
    }));
    if (!data.items.length) tbody.append(h("tr", {}, h("td", {colspan: 7, class: "muted"},
      "No executions match. Run one with `skiff run --sandbox FILE WORKFLOW`, or launch a launch plan from its page.")));
  }
  await load();
  every(LIST_REFRESH_MS, load);
}

// ---- typed values ----------------------------------------------------------------------------

function valuesTable(values, fullHref) {
  if (!values || !values.length) return h("p", {class: "muted"}, "none");
  return h("table", {class: "values"},
    h("thead", {}, h("tr", {}, h("th", {}, "Name"), h("th", {}, "Type"), h("th", {}, "Value"))),
    h("tbody", {}, values.map((v) => h("tr", {"data-name": v.name},
      h("td", {class: "mono"}, v.name),
      h("td", {class: "mono muted"}, v.type),
      h("td", {},
        h("pre", {class: "value mono"}, showValue(v)),
        v.blob ? blobLinks(v.blob) : null,
        v.truncated && fullHref ? h("a", {href: fullHref, target: "_blank"}, "show the whole value") : null)))));
}

function blobLinks(blob) {
  if (!blob.uri.startsWith("s3://")) return h("div", {class: "muted mono"}, blob.uri);
  if (blob.kind === "file") {
    const shown = h("div", {});
    const preview = h("a", {href: "#", onclick: async (ev) => {
      ev.preventDefault();
      try {
        const head = await api("/blob?preview=1&uri=" + enc(blob.uri));
        put(shown, h("pre", {class: "value mono"}, head.text + (head.cut ? `\n… (${head.size} bytes in all)` : "")));
      } catch (err) { showBanner(err.message); }
    }}, "preview");
    return h("div", {}, h("a", {href: "/api/blob?uri=" + enc(blob.uri)}, "download file"), " · ", preview, shown);
  }
  // A directory or a DataFrame (a directory of Parquet files): list its files on demand.
  const box = h("div", {});
  const open = h("a", {href: "#", onclick: async (ev) => {
    ev.preventDefault();
    try {
      const files = await api("/listing?uri=" + enc(blob.uri));
      put(box, files.length ? h("ul", {}, files.map((f) => h("li", {},
        h("a", {href: "/api/blob?uri=" + enc(f.uri)}, f.uri.slice(blob.uri.length).replace(/^\//, "") || f.uri),
        h("span", {class: "muted"}, ` ${f.size} bytes`)))) : h("span", {class: "muted"}, "empty"));
    } catch (err) { showBanner(err.message); }
  }}, `list the ${blob.kind}'s files`);
  const head = blob.kind === "dataframe" ? h("a", {href: "#", onclick: async (ev) => {
    ev.preventDefault();
    try {
      const df = await api("/dataframe?uri=" + enc(blob.uri));
      put(box, h("table", {class: "dataframe"},
        h("thead", {}, h("tr", {}, df.columns.map((c) => h("th", {}, c)))),
        h("tbody", {}, df.rows.map((r) => h("tr", {}, r.map((v) => h("td", {class: "mono"}, JSON.stringify(v))))))),
        h("p", {class: "muted"}, `first ${df.rows.length} of ${df.total_rows} rows`));
    } catch (err) { showBanner(err.message); }
  }}, "show the first rows") : null;
  put(box, open, head ? " · " : null, head);
  return box;
}

function showValue(v) {
  if (v.truncated) return v.value;
  // A float that happens to be whole still reads as a float (JSON would print 1.0 as 1).
  if (v.type === "float" && Number.isInteger(v.value)) return v.value.toFixed(1);
  return typeof v.value === "string" ? JSON.stringify(v.value) : JSON.stringify(v.value, null, 2);
}

// ---- one execution ---------------------------------------------------------------------------

function parentState(id, nodes) {
  // Subworkflow and launch plan nodes have no row: summarise their inner rows, as the admin does.
  const prefix = id + "-";
  const inner = Object.entries(nodes).filter(([k]) => k.startsWith(prefix)).map(([, v]) => v.state);
  if (!inner.length) return "queued";
  if (inner.includes("failed")) return "failed";
  if (inner.every((st) => st === "succeeded" || st === "cached" || st === "skipped")) return "succeeded";
  if (inner.every((st) => st === "queued")) return "queued";
  if (inner.includes("aborted")) return "aborted";
  return "running";
}

function nodeState(node, states) {
  if (node.kind === "start") return states.started || states.state !== "queued" ? "succeeded" : "queued";
  if (node.kind === "end") return states.state;
  const row = states.nodes[node.id];
  if (row) return row.state;
  if (node.kind === "subworkflow" || node.kind === "launch_plan") return parentState(node.id, states.nodes);
  return "queued";
}

function layout(graph) {
  // Layers by longest path from the sources, left to right; order within a layer by the mean
  // position of a node's predecessors (one sweep is enough for readable pipelines).
  const ids = graph.nodes.map((n) => n.id);
  const preds = new Map(ids.map((id) => [id, []]));
  const succs = new Map(ids.map((id) => [id, []]));
  for (const [a, b] of graph.edges) {
    if (!preds.has(a) || !preds.has(b)) continue;
    preds.get(b).push(a); succs.get(a).push(b);
  }
  const layer = new Map();
  const indegree = new Map(ids.map((id) => [id, preds.get(id).length]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  queue.forEach((id) => layer.set(id, 0));
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i];
    for (const next of succs.get(id)) {
      layer.set(next, Math.max(layer.get(next) || 0, layer.get(id) + 1));
      indegree.set(next, indegree.get(next) - 1);
      if (indegree.get(next) === 0) queue.push(next);
    }
  }
  let maxLayer = 0;
  for (const id of ids) { if (!layer.has(id)) layer.set(id, 0); maxLayer = Math.max(maxLayer, layer.get(id)); }
  // The end node goes last, failure nodes below everything.
  for (const n of graph.nodes) if (n.kind === "end") layer.set(n.id, Math.max(layer.get(n.id), maxLayer));
  const layers = [];
  for (const id of ids) { const l = layer.get(id); (layers[l] = layers[l] || []).push(id); }
  const position = new Map();
  layers.forEach((members, l) => {
    if (l > 0) {
      const score = (id) => { const p = preds.get(id).filter((x) => position.has(x));
        return p.length ? p.reduce((sum, x) => sum + position.get(x), 0) / p.length : 1e9; };
      members.sort((a, b) => score(a) - score(b));
    }
    members.forEach((id, i) => position.set(id, i));
  });
  const W = 168, H = 38, GX = 70, GY = 22;
  const failure = new Set(graph.nodes.filter((n) => n.failure_node).map((n) => n.id));
  const placed = layers.map((members) => (members || []).filter((id) => !failure.has(id)));
  const tallest = Math.max(...placed.map((m) => m.length), 1);
  const coords = new Map();
  placed.forEach((members, l) => {
    const offset = (tallest - members.length) * (H + GY) / 2;
    members.forEach((id, i) => coords.set(id, {x: 20 + l * (W + GX), y: 20 + offset + i * (H + GY)}));
  });
  // The failure node (on_failure) runs only when the workflow fails: a row of its own below.
  [...failure].forEach((id, i) => coords.set(id, {x: 20 + (i + 1) * (W + GX), y: 20 + tallest * (H + GY) + 10}));
  const rows = tallest + (failure.size ? 1 : 0);
  return {coords, W, H, width: 40 + Math.max(placed.length, failure.size + 1) * (W + GX) - GX,
          height: 40 + rows * (H + GY) - GY + (failure.size ? 10 : 0)};
}

function drawGraph(graph, states, onSelect, onOpen) {
  const {coords, W, H, width, height} = layout(graph);
  const svg = s("svg", {width, height, viewBox: `0 0 ${width} ${height}`, class: "dag"});
  const edges = s("g", {});
  for (const [a, b] of graph.edges) {
    const p = coords.get(a), q = coords.get(b);
    if (!p || !q) continue;
    const x1 = p.x + (a.endsWith("start-node") ? 60 : W), y1 = p.y + H / 2, x2 = q.x, y2 = q.y + H / 2, mx = (x1 + x2) / 2;
    add(edges, s("path", {class: "edge", d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`}));
  }
  add(svg, edges);
  const byId = new Map();
  for (const node of graph.nodes) {
    const c = coords.get(node.id);
    const terminal = node.kind === "start" || node.kind === "end";
    const openable = node.graph || node.kind === "map" || node.kind === "branch" ||
                     (node.kind === "task" && hasChildren(node.id, states));
    const label = node.label.length > 22 ? node.label.slice(0, 21) + "…" : node.label;
    const g = s("g", {class: "node " + (terminal ? "terminal" : nodeState(node, states)) +
                       (node.failure_node ? " failure" : ""),
                      "data-id": node.id, "data-kind": node.kind,
                      transform: `translate(${c.x},${c.y})`,
                      onclick: () => onSelect(node), ondblclick: () => openable && onOpen(node)},
      s("title", {}, `${node.label} (${node.kind}) ${node.id}`),
      s("rect", {width: terminal ? 60 : W, height: H, rx: 6}),
      s("text", {x: 10, y: 16}, label),
      s("text", {x: 10, y: 30, "font-size": 10, opacity: 0.85},
        terminal ? "" : kindLabel(node, states) + " · " + node.id.split("-").pop()));
    if (openable) add(g, s("text", {class: "opener", x: W - 16, y: 24}, "⊕"));
    add(svg, g);
    byId.set(node.id, g);
  }
  svg.dataset.width = width;
  svg.dataset.height = height;
  return {svg, update(newStates) {
    for (const node of graph.nodes) {
      const g = byId.get(node.id);
      if (!g || node.kind === "start" || node.kind === "end") continue;
      const state = nodeState(node, newStates);
      g.setAttribute("class", "node " + state + (node.failure_node ? " failure" : "") +
                     (g.classList.contains("selected") ? " selected" : ""));
    }
  }, select(id) {
    byId.forEach((g, key) => g.classList.toggle("selected", key === id));
  }};
}

function hasChildren(id, states) {
  const prefix = id + "-";
  return Object.keys(states.nodes).some((k) => k.startsWith(prefix));
}

function kindLabel(node, states) {
  if (node.kind === "task" && states && hasChildren(node.id, states)) return "dynamic task";
  return {task: "task", map: "map task", branch: "branch", gate: "gate", subworkflow: "subworkflow",
          launch_plan: "launch plan"}[node.kind] || node.kind;
}

function childRows(id, states) {
  const prefix = id + "-";
  return Object.entries(states.nodes).filter(([k]) => k.startsWith(prefix) &&
    !k.slice(prefix.length).includes("-")).map(([k, v]) => ({id: k, ...v}));
}

async function executionPage(page, executionId) {
  document.title = executionId + " · Skiff";
  const detail = await api("/executions/" + enc(executionId));
  let states = await api(`/executions/${enc(executionId)}/states`);
  const stateBadge = h("span", {id: "execution-state"}, badge(states.state));
  const duration = h("span", {}, fmtDuration(detail.duration));
  const errorBox = h("div", {class: "error-box hidden", id: "execution-error"});
  const actions = h("div", {class: "actions"});
  const setError = (message) => {
    put(errorBox, h("strong", {}, "Error"), h("pre", {class: "mono"}, message || ""));
    errorBox.classList.toggle("hidden", !message);
  };
  let actionsFor = null;
  let acting = false;  // an action's request is under way (see act)
  const drawActions = () => {
    // Redrawn only when the state changes: a button replaced under the pointer loses its click.
    if (actionsFor === states.state || acting) return;
    actionsFor = states.state;
    const running = !TERMINAL.has(states.state);
    put(actions, 
      h("button", {id: "relaunch", onclick: () => act("relaunch")}, "Relaunch"),
      h("button", {id: "recover", class: "secondary", disabled: states.state !== "failed",
                   title: "run again from where it failed; completed nodes keep their outputs",
                   onclick: () => act("recover")}, "Recover"),
      detail.launch_plan && detail.kind === "workflow"
        ? buttonLink(`/launch/${enc(detail.project)}/${enc(detail.domain)}/${enc(detail.launch_plan)}?version=${enc(detail.version)}&from=${enc(executionId)}`,
               "Launch with other inputs…") : null,
      running ? h("button", {id: "terminate", class: "danger", onclick: () => {
        if (confirm("Terminate this execution? Its running containers are stopped.")) act("terminate");
      }}, "Terminate") : null);
  };
  async function act(what) {
    // One request at a time, its buttons disabled meanwhile: a second click (a double click,
    // an impatient user) must not relaunch twice or terminate another execution.
    if (acting) return;
    acting = true;
    actions.querySelectorAll("button").forEach((b) => { b.disabled = true; });
    try {
      const answer = await post(`/executions/${enc(executionId)}/${what}`, {});
      if (answer.execution) { navigate("/executions/" + enc(answer.execution)); return; }
      await refresh();
    } catch (err) { showBanner(err.message); }
    acting = false;
    actionsFor = null;  // enabled again, as the (new) state says
    drawActions();
  }
  add(page, 
    h("div", {class: "muted"}, link("/executions", "Executions"), " / ", detail.project, " / ", detail.domain),
    h("h1", {}, executionId, " ", stateBadge),
    h("div", {class: "summary panel"},
      h("div", {}, h("span", {}, detail.kind), detail.workflow),
      h("div", {}, h("span", {}, "launch plan"), detail.launch_plan || "—"),
      h("div", {}, h("span", {}, "version"), h("code", {}, detail.version)),
      h("div", {}, h("span", {}, "started"), fmtTime(detail.started || detail.created)),
      h("div", {}, h("span", {}, "duration"), h("div", {}, duration)),
      detail.mode ? h("div", {}, h("span", {}, detail.mode + " of"),
                      link("/executions/" + enc(detail.reference_execution), detail.reference_execution)) : null),
    actions, errorBox);
  setError(detail.error);
  drawActions();

  const tabs = ["Graph", "Timeline", "Inputs & outputs"];
  const bodies = tabs.map(() => h("div", {class: "tab-body hidden"}));
  const buttons = tabs.map((name, i) => h("button", {"data-tab": name, onclick: () => show(i)}, name));
  const show = (i) => { buttons.forEach((b, j) => b.classList.toggle("active", i === j));
                        bodies.forEach((b, j) => b.classList.toggle("hidden", i !== j)); };
  add(page, h("div", {class: "tabs"}, buttons), ...bodies);
  show(0);

  // Graph, with a breadcrumb of opened nodes.
  const graphBox = h("div", {class: "graph", id: "dag"});
  const side = h("div", {class: "side", id: "node-panel"}, h("p", {class: "muted"},
    "Click a node for its details; double-click (or ⊕) to open a subworkflow, map task, branch or dynamic task."));
  const crumbs = h("div", {class: "crumbs"});
  let zoom = detail.graph.nodes.length > 60 ? "fit" : 1;
  const applyZoom = () => {
    const svg = graphBox.querySelector("svg");
    if (!svg) return;
    const w = +svg.dataset.width, hgt = +svg.dataset.height;
    const z = zoom === "fit" ? Math.max(0.2, Math.min(1, (graphBox.clientWidth - 4) / w,
                                                     (graphBox.clientHeight - 4) / hgt)) : zoom;
    svg.setAttribute("width", w * z);
    svg.setAttribute("height", hgt * z);
  };
  const zoomBy = (f) => { const svg = graphBox.querySelector("svg");
    const current = svg ? +svg.getAttribute("width") / +svg.dataset.width : 1;
    zoom = Math.max(0.1, Math.min(2, current * f)); applyZoom(); };
  const zoomBar = h("span", {class: "zoom"},
    h("button", {class: "secondary", title: "zoom out", onclick: () => zoomBy(1 / 1.25)}, "−"),
    h("button", {class: "secondary", title: "the whole graph", onclick: () => { zoom = "fit"; applyZoom(); }}, "Fit"),
    h("button", {class: "secondary", title: "zoom in", onclick: () => zoomBy(1.25)}, "+"));
  add(bodies[0], h("div", {class: "graph-bar"}, legend(), zoomBar), crumbs,
      h("div", {class: "graph-wrap"}, graphBox, side));
  let stack = [{label: detail.workflow.split(".").pop(), graph: detail.graph}];
  let drawn = null;
  let selected = null;
  const redraw = () => {
    const top = stack[stack.length - 1];
    put(crumbs, ...stack.flatMap((entry, i) => [
      i ? " › " : "",
      i === stack.length - 1 ? h("strong", {}, entry.label)
        : h("a", {onclick: () => { stack = stack.slice(0, i + 1); redraw(); }}, entry.label)]));
    if (top.graph) {
      drawn = drawGraph(top.graph, states, selectNode, openNode);
      put(graphBox, drawn.svg);
      applyZoom();
    } else {
      drawn = null;
      put(graphBox, top.render());
    }
  };
  function openNode(node) {
    if (node.graph) stack.push({label: node.label, graph: node.graph});
    else stack.push({label: node.label, render: () => childrenView(node)});
    redraw();
  }
  function childrenView(node) {
    const box = h("div", {class: "children", "data-parent": node.id});
    const rows = childRows(node.id, states);
    if (node.kind === "branch") {
      const items = node.cases.map((c) => h("li", {class: "case", "data-case": c.label},
        c.label, ": ", c.name, c.kind !== "task" ? ` (${c.kind})` : ""));
      const note = h("p", {class: "muted"}, "…");
      add(box, h("h2", {}, "Branch " + node.label), h("ul", {}, items), note);
      api(`/executions/${enc(executionId)}/nodes/${enc(node.id)}/branch`).then((taken) => {
        items.forEach((li) => li.classList.toggle("taken", li.dataset.case === taken.case));
        note.textContent = taken.case ? `The marked case (${taken.case}) ran as node ${node.id}.`
                                      : "No case has been chosen yet.";
      }).catch((err) => showBanner(err.message));
    }
    if (rows.length) {
      const counts = {};
      rows.forEach((r) => { counts[r.state] = (counts[r.state] || 0) + 1; });
      add(box, h("h2", {}, node.kind === "map" ? `Map task: ${rows.length} elements`
                                                 : `Nodes it ran: ${rows.length}`),
        h("div", {class: "counts"}, Object.entries(counts).map(([st, n]) => h("span", {}, badge(st), " ", n))),
        h("table", {}, h("thead", {}, h("tr", {}, ["Node", "State", "Task", "Attempts", "Duration"].map((t) => h("th", {}, t)))),
          h("tbody", {}, rows.map((r) => h("tr", {},
            h("td", {class: "mono"}, link(`/executions/${enc(executionId)}/nodes/${enc(r.id)}`, r.id)),
            h("td", {}, badge(r.state)), h("td", {}, r.task || "—"),
            h("td", {}, String((r.attempt || 0) + 1)), h("td", {}, fmtDuration(r.duration)))))));
    } else if (node.kind !== "branch") {
      add(box, h("p", {class: "muted"}, "Nothing has run under this node yet."));
    }
    return h("div", {class: "panel"}, box);
  }
  let selectedShown = null;
  function selectNode(node) {
    selected = node;
    selectedShown = JSON.stringify(states.nodes[node.id] || nodeState(node, states));
    if (drawn) drawn.select(node.id);
    const row = states.nodes[node.id];
    const state = nodeState(node, states);
    const openable = node.graph || node.kind === "map" || node.kind === "branch" || hasChildren(node.id, states);
    put(side, 
      h("h2", {}, node.label), h("div", {}, badge(state), " ", h("span", {class: "muted"}, kindLabel(node, states))),
      h("p", {class: "mono muted"}, node.id),
      node.task ? h("p", {}, "task ", h("code", {}, node.task)) : null,
      row ? h("p", {}, `attempts: ${row.attempt + 1} · duration ${fmtDuration(row.duration)}`) : null,
      row && row.error ? h("pre", {class: "value mono"}, row.error) : null,
      row ? h("p", {}, link(`/executions/${enc(executionId)}/nodes/${enc(node.id)}`,
                            "Open node: inputs, outputs, logs ›")) : null,
      row && state === "waiting" ? h("p", {}, link(`/executions/${enc(executionId)}/nodes/${enc(node.id)}`,
                                                   h("strong", {}, "Answer this gate ›"))) : null,
      node.failure_node ? h("p", {class: "muted"}, "The failure node: runs only when the workflow fails.") : null,
      openable ? h("p", {}, h("button", {class: "secondary", onclick: () => openNode(node)}, "Open in place")) : null);
  }
  redraw();

  // Timeline.
  const timelineBox = h("div", {class: "timeline", id: "timeline"});
  add(bodies[1], legend(), timelineBox);
  const drawTimeline = () => put(timelineBox, timeline(states, executionId));
  drawTimeline();

  // Inputs and outputs.
  const full = `/api/executions/${enc(executionId)}?full=1`;
  const outputsBox = h("div", {id: "outputs"}, valuesTable(detail.outputs, full));
  add(bodies[2], h("h2", {}, "Inputs"), h("div", {id: "inputs"}, valuesTable(detail.inputs, full)),
                   h("h2", {}, "Outputs"), outputsBox);

  async function refresh() {
    states = await api(`/executions/${enc(executionId)}/states`);
    put(stateBadge, badge(states.state));
    if (states.started) {  // the running execution's duration so far
      duration.textContent = fmtDuration((Date.parse(states.ended || states.now) - Date.parse(states.started)) / 1000);
    }
    if (drawn) drawn.update(states);
    else if (stack.length > 1) redraw();
    // The side panel only when the selected node changed (its buttons must keep their clicks).
    if (selected && JSON.stringify(states.nodes[selected.id] || nodeState(selected, states)) !== selectedShown) {
      selectNode(selected);
    }
    drawTimeline();
    drawActions();
    if (TERMINAL.has(states.state)) {
      const final = await api("/executions/" + enc(executionId));
      setError(final.error);
      duration.textContent = fmtDuration(final.duration);
      put(outputsBox, valuesTable(final.outputs, full));
    }
  }
  if (!TERMINAL.has(states.state)) {
    const id = every(POLL_MS, async () => {
      await refresh();
      if (TERMINAL.has(states.state)) clearInterval(id);
    });
  }
}

function legend() {
  return h("div", {class: "legend"}, ["queued", "running", "waiting", "retrying", "succeeded", "cached",
                                      "failed", "aborted"].map((st) => h("span", {},
    h("i", {class: "swatch-" + st}), st)));
}

function timeline(states, executionId) {
  // One row per node that started, one bar per attempt.
  const first = (n) => n.attempts[0].queued || n.attempts[0].started || "";
  const rows = Object.entries(states.nodes).filter(([, n]) => n.attempts && n.attempts.length)
    .sort((a, b) => first(a[1]).localeCompare(first(b[1])));
  if (!rows.length) return h("p", {class: "muted"}, "No node has started yet.");
  const now = Date.parse(states.now);
  const begins = (a) => Date.parse(a.queued || a.started);
  const t0 = Math.min(...rows.flatMap(([, n]) => n.attempts.map(begins)));
  const t1 = Math.max(now && !TERMINAL.has(states.state) ? now : 0,
                      ...rows.flatMap(([, n]) => n.attempts.map((a) => Date.parse(a.ended || states.now))));
  const span = Math.max(t1 - t0, 1);
  const LEFT = 240, WIDTH = 760, ROW = 24;
  const height = 30 + rows.length * ROW;
  const svg = s("svg", {width: LEFT + WIDTH + 80, height, class: "gantt"});
  for (let i = 0; i <= 5; i++) {
    const x = LEFT + WIDTH * i / 5;
    add(svg, s("line", {class: "grid", x1: x, x2: x, y1: 18, y2: height}),
               s("text", {x: x - 10, y: 12}, fmtDuration(span * i / 5000)));
  }
  rows.forEach(([id, node], i) => {
    const y = 22 + i * ROW;
    let text = id + (node.task ? " · " + node.task.split(".").pop() : "");
    if (text.length > 36) text = text.slice(0, 35) + "…";
    const label = s("text", {x: 8, y: y + 14}, text);
    const a = s("a", {href: `/executions/${enc(executionId)}/nodes/${enc(id)}`}, label);
    a.addEventListener("click", (ev) => { ev.preventDefault();
      navigate(`/executions/${enc(executionId)}/nodes/${enc(id)}`); });
    add(svg, a);
    for (const attempt of node.attempts) {
      if (attempt.queued && attempt.started && attempt.started > attempt.queued) {
        // Setting up: inputs written, container created or woken (the light part of a bar).
        const q = Date.parse(attempt.queued), st = Date.parse(attempt.started);
        svg.append(s("rect", {class: "bar queued", x: LEFT + WIDTH * (q - t0) / span, y: y + 3,
                              width: Math.max(1, WIDTH * (st - q) / span), height: ROW - 8,
                              "data-queued": id},
          s("title", {}, `${id} attempt ${attempt.attempt}: queued ` + fmtDuration((st - q) / 1000))));
      }
      if (!attempt.started) continue;
      const start = Date.parse(attempt.started);
      const end = attempt.ended ? Date.parse(attempt.ended) : now;
      const x = LEFT + WIDTH * (start - t0) / span;
      const w = Math.max(3, WIDTH * (end - start) / span);
      add(svg, s("rect", {class: "bar " + attempt.state, x, y: y + 3, width: w, height: ROW - 8,
                            "data-node": id, "data-attempt": attempt.attempt},
        s("title", {}, `${id} attempt ${attempt.attempt}: ${attempt.state}, ` +
                       fmtDuration((end - start) / 1000) +
                       (attempt.exit_status ? ` (${attempt.exit_status})` : ""))));
    }
  });
  return svg;
}

// ---- one node --------------------------------------------------------------------------------

async function nodePage(page, executionId, nodeId) {
  document.title = nodeId + " · " + executionId + " · Skiff";
  const base = `/executions/${enc(executionId)}/nodes/${enc(nodeId)}`;
  let node = await api(base);
  const stateBadge = h("span", {id: "node-state"}, badge(node.state));
  const attemptsBox = h("div", {});
  const gateBox = h("div", {id: "gate"});
  const valuesBox = h("div", {});
  const errorBox = h("div", {class: "error-box hidden"});
  const logs = h("pre", {class: "logs mono", id: "logs"});
  const follow = h("input", {type: "checkbox", checked: true, id: "follow"});
  add(page, 
    h("div", {class: "muted"}, link("/executions", "Executions"), " / ",
      link("/executions/" + enc(executionId), executionId), " / node"),
    h("h1", {}, nodeId, " ", stateBadge),
    h("div", {class: "summary panel"},
      h("div", {}, h("span", {}, "task"), node.task || "—"),
      h("div", {}, h("span", {}, "attempts"), String(node.attempt + 1)),
      h("div", {}, h("span", {}, "failures (user / system)"), `${node.user_failures} / ${node.system_failures}`),
      h("div", {}, h("span", {}, "cache"), cacheText(node.cache)),
      node.cache && node.cache.key ? h("div", {}, h("span", {}, "cache key"), h("code", {class: "mono"}, node.cache.key.slice(0, 24) + "…")) : null,
      h("div", {}, h("span", {}, "container"), node.container ? node.container.slice(0, 12) : "—")),
    gateBox, errorBox,
    h("h2", {}, "Attempts"), attemptsBox,
    valuesBox,
    node.task || node.container ? h("h2", {}, "Logs ", h("label", {class: "muted"}, follow, " follow the end")) : null,
    node.task || node.container ? logs : null);
  const drawNode = () => {
    put(stateBadge, badge(node.state));
    put(errorBox, h("strong", {}, "Error"), h("pre", {class: "mono"}, node.error || ""));
    errorBox.classList.toggle("hidden", !node.error || node.state === "waiting");
    put(attemptsBox, h("table", {id: "attempts"},
      h("thead", {}, h("tr", {}, ["Attempt", "State", "Exit status", "Started", "Duration"].map((t) => h("th", {}, t)))),
      h("tbody", {}, (node.attempts.length ? node.attempts : [{attempt: node.attempt, state: node.state}]).map((a) =>
        h("tr", {"data-attempt": a.attempt}, h("td", {}, String(a.attempt)), h("td", {}, badge(a.state)),
          h("td", {class: "exit-status"}, exitText(a)), h("td", {}, fmtTime(a.started)),
          h("td", {}, a.started ? fmtDuration(((a.ended ? Date.parse(a.ended) : Date.now()) - Date.parse(a.started)) / 1000) : "—"))))));
    const full = `/api${base}?full=1`;
    put(valuesBox, h("h2", {}, "Inputs"), valuesTable(node.inputs, full),
                              h("h2", {}, "Outputs"), h("div", {id: "node-outputs"}, valuesTable(node.outputs, full)),
      node.children.length ? h("h2", {}, `Nodes under it (${node.children.length})`) : null,
      node.children.length ? h("table", {}, h("tbody", {}, node.children.map((c) => h("tr", {},
        h("td", {class: "mono"}, link(`/executions/${enc(executionId)}/nodes/${enc(c.id)}`, c.id)),
        h("td", {}, badge(c.state)), h("td", {}, c.task || ""), h("td", {}, fmtDuration(c.duration)))))) : null);
    drawGate();
  };
  let gateFor = null;
  function drawGate() {
    // Drawn once per state: redrawing would wipe a value being typed and lose clicks.
    if (gateFor === node.state) return;
    gateFor = node.state;
    if (!node.gate || node.state !== "waiting") { put(gateBox); return; }
    const g = node.gate;
    if (g.kind === "approve") {
      const reason = h("input", {placeholder: "reason (for a rejection)", id: "reject-reason", size: 30});
      put(gateBox, h("div", {class: "panel"},
        h("strong", {}, `Waiting for approval "${g.signal_id}"`), " ",
        h("button", {id: "approve", onclick: () => answer("approve", {})}, "Approve"), " ",
        reason, " ",
        h("button", {id: "reject", class: "danger", onclick: () => answer("reject", {reason: reason.value})}, "Reject")));
    } else if (g.kind === "signal") {
      const value = h("input", {id: "signal-value", placeholder: g.type, size: 30});
      put(gateBox, h("div", {class: "panel"},
        h("strong", {}, `Waiting for input "${g.signal_id}" (${g.type})`), " ", value, " ",
        h("button", {id: "signal", onclick: () => answer("signal", {value: value.value})}, "Send")));
    }
  }
  async function answer(what, body) {
    try { await post(`${base}/${what}`, body); put(gateBox, h("p", {class: "muted"}, "Answer sent.")); }
    catch (err) { showBanner(err.message); }
  }
  drawNode();

  let offset = 0;
  async function pollLogs() {
    const chunk = await api(`${base}/logs?offset=${offset}`);
    if (chunk.reset) logs.textContent = "";
    if (chunk.text) {
      logs.append(document.createTextNode(chunk.text));
      if (follow.checked) logs.scrollTop = logs.scrollHeight;
    }
    offset = chunk.offset;
    if (!logs.textContent && !chunk.active) logs.textContent = "(no output)";
    return chunk.active;
  }
  const active = await pollLogs();
  if (active || !TERMINAL.has(node.execution_state)) {
    const id = every(POLL_MS, async () => {
      const stillActive = await pollLogs();
      node = await api(base);
      drawNode();
      if (!stillActive && TERMINAL.has(node.state === "cached" ? "succeeded" : node.state)) clearInterval(id);
    });
  }
}

function exitText(attempt) {
  // How the attempt's container ended ("exit 1, user error", "out of memory (OOM killed, exit 137)").
  if (attempt.exit_status) return attempt.exit_status;
  if (attempt.exit_code !== null && attempt.exit_code !== undefined) return "exit " + attempt.exit_code;
  return TERMINAL.has(attempt.state) || attempt.state === "succeeded" ? "not recorded" : "—";
}

function cacheText(cache) {
  if (!cache) return "—";
  if (!cache.cacheable) return "not cached";
  if (cache.hit) return "hit (version " + cache.version + ")";
  return (cache.stored ? "miss; result stored" : "miss") + " (version " + cache.version + ")";
}

// ---- registered entities ---------------------------------------------------------------------

async function entitiesPage(page) {
  document.title = "Workflows · Skiff";
  const params = new URLSearchParams(location.search);
  const projects = await api("/projects");
  const project = h("select", {}, projects.map((p) => h("option", {value: p.id}, p.id)));
  const domain = h("select", {}, ["development", "staging", "production"].map((d) => h("option", {value: d}, d)));
  project.value = params.get("project") || "default";
  domain.value = params.get("domain") || "development";
  const box = h("div", {});
  add(page, h("h1", {}, "Workflows, tasks and launch plans"),
    h("div", {class: "filters"}, h("label", {}, "Project", project), h("label", {}, "Domain", domain)), box);
  const load = async () => {
    history.replaceState(null, "", `/entities?project=${enc(project.value)}&domain=${enc(domain.value)}`);
    const items = await api(`/entities?project=${enc(project.value)}&domain=${enc(domain.value)}`);
    if (!items.length) { put(box, h("p", {class: "muted"}, "Nothing registered here yet (`skiff register`, or `skiff run --sandbox`).")); return; }
    put(box, h("table", {id: "entities"},
      h("thead", {}, h("tr", {}, ["Name", "Kind", "Latest version", "Versions", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((e) => h("tr", {},
        h("td", {}, link(`/entities/${enc(e.kind)}/${enc(project.value)}/${enc(domain.value)}/${enc(e.name)}`, e.name)),
        h("td", {}, e.kind), h("td", {class: "mono"}, e.versions[0].version),
        h("td", {}, String(e.versions.length)),
        h("td", {}, e.kind === "launch plan" ? link(`/launch/${enc(project.value)}/${enc(domain.value)}/${enc(e.name)}`, "Launch…") : ""))))));
  };
  project.addEventListener("change", load);
  domain.addEventListener("change", load);
  await load();
}

async function entityPage(page, kind, project, domain, name) {
  document.title = name + " · Skiff";
  const e = await api(`/entities/${enc(kind)}/${enc(project)}/${enc(domain)}/${enc(name)}`);
  add(page, 
    h("div", {class: "muted"}, link(`/entities?project=${enc(project)}&domain=${enc(domain)}`, "Registered"), ` / ${project} / ${domain}`),
    h("h1", {}, name), h("p", {class: "muted"}, e.kind),
    e.launch_form ? h("p", {}, h("button", {onclick: () => navigate(`/launch/${enc(project)}/${enc(domain)}/${enc(name)}`)}, "Launch…")) : null,
    h("p", {}, link(`/executions?project=${enc(project)}&domain=${enc(domain)}&workflow=${enc(name)}`, "Its executions ›")),
    h("table", {id: "versions"},
      h("thead", {}, h("tr", {}, ["Version", "Registered", "Green executions (proof)", "Promotions"].map((t) => h("th", {}, t)))),
      h("tbody", {}, e.versions.map((v) => h("tr", {},
        h("td", {class: "mono"}, v.version), h("td", {}, fmtTime(v.created)),
        h("td", {}, v.green.length ? v.green.map((id) => h("div", {}, link("/executions/" + enc(id), id))) : h("span", {class: "muted"}, "none")),
        h("td", {}, v.promotions.length ? v.promotions.map((p) => h("div", {},
          `${p.from} → ${p.to} `, p.forced ? h("strong", {}, "(forced) ") : "",
          p.evidence ? ["proved by ", link("/executions/" + enc(p.evidence), p.evidence)] : "", " ", h("span", {class: "muted"}, fmtTime(p.at))))
          : h("span", {class: "muted"}, "none")))))));
  if (e.graph) {
    // The latest version's shape; node colours come with an execution.
    const empty = {state: "queued", nodes: {}};
    const drawn = drawGraph(e.graph, empty, () => {}, () => {});
    add(page, h("h2", {}, `Graph of version ${e.versions[0].version}`),
        h("div", {class: "graph", id: "workflow-graph"}, drawn.svg));
  }
}

// ---- launch form -----------------------------------------------------------------------------

async function launchPage(page, project, domain, name) {
  document.title = "Launch " + name + " · Skiff";
  const params = new URLSearchParams(location.search);
  const lp = await api(`/launch/${enc(project)}/${enc(domain)}/${enc(name)}` +
                       (params.get("version") ? "?version=" + enc(params.get("version")) : ""));
  const inputs = new Map();
  const fields = lp.fields.map((f) => {
    const widget = f.widget.replace(/^optional:/, "");
    let input;
    if (widget === "bool") input = h("input", {type: "checkbox", name: f.name});
    else if (widget === "int" || widget === "float") input = h("input", {type: "number", name: f.name, step: widget === "int" ? "1" : "any"});
    else if (widget.startsWith("enum:")) input = h("select", {name: f.name}, widget.slice(5).split(",").map((v) => h("option", {value: v}, v)));
    else if (widget === "json") input = h("textarea", {name: f.name, rows: 3, cols: 50, placeholder: "JSON"});
    else input = h("input", {name: f.name, size: 40, placeholder: BLOB_WIDGETS.has(widget) ? "s3://... URI, or choose below" : (widget === "duration" ? "seconds" : "")});
    if (f.default !== undefined && f.default !== null) {
      if (widget === "bool") input.checked = !!f.default;
      else if (widget === "json") input.value = JSON.stringify(f.default, null, 1);
      else if (BLOB_WIDGETS.has(widget) && typeof f.default === "object") input.value = f.default.uri || f.default.path || "";
      else input.value = String(f.default);
    }
    // A File or Directory: an s3:// URI, or a file (a directory) from this computer, uploaded
    // to the sandbox's storage when the form is sent.
    const chooser = BLOB_WIDGETS.has(widget) ? h("input", {type: "file", name: f.name + ".upload",
      "data-upload": widget, webkitdirectory: widget === "directory", multiple: widget === "directory"}) : null;
    if (chooser) chooser.addEventListener("change", () => { if (chooser.files.length) input.value = ""; });
    inputs.set(f.name, {input, widget, field: f, chooser});
    return h("div", {class: "field"},
      h("label", {}, h("strong", {}, f.name), f.required && f.default === undefined ? " *" : "",
        h("div", {class: "type mono"}, f.type), f.description && f.description !== f.name ? h("div", {class: "type"}, f.description) : null),
      chooser ? h("div", {class: "blob-input"}, input,
                  h("div", {class: "muted"}, widget === "directory" ? "or upload a directory: " : "or upload a file: ", chooser,
                    ` (up to ${lp.max_upload_mib} MiB per file)`)) : input);
  });
  if (params.get("from")) {
    // "Launch with other inputs": start from the inputs that execution had.
    const previous = await api("/executions/" + enc(params.get("from")) + "?full=1");
    for (const value of previous.inputs) {
      const entry = inputs.get(value.name);
      if (!entry || value.value === null || value.value === undefined) continue;
      if (entry.widget === "bool") entry.input.checked = !!value.value;
      else if (BLOB_WIDGETS.has(entry.widget) && value.blob) entry.input.value = value.blob.uri;
      else if (entry.widget === "json") entry.input.value = JSON.stringify(value.value, null, 1);
      else entry.input.value = String(value.value);
    }
  }
  const result = h("div", {});
  const launchButton = h("button", {type: "submit", id: "launch"}, "Launch");
  const form = h("form", {class: "launch panel", id: "launch-form"}, fields,
    Object.keys(lp.fixed).length ? h("p", {class: "muted"}, "Fixed by the launch plan: " +
      Object.entries(lp.fixed).map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(", ")) : null,
    launchButton, result);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const values = {};
    launchButton.disabled = true;
    put(result);
    try {
      for (const [key, {chooser}] of inputs) checkUploadSizes(key, chooser, lp.max_upload_mib);
      for (const [key, {input, widget, field, chooser}] of inputs) {
        if (chooser && chooser.files.length) {
          put(result, h("p", {class: "muted"}, `uploading ${key}…`));
          values[key] = await uploadChosen(chooser, widget, project, domain);
          continue;
        }
        if (widget === "bool") { values[key] = input.checked; continue; }
        if (input.value === "" ) { if (field.required && field.default === undefined) throw new Error(`${key} is required`); continue; }
        if (widget === "int") values[key] = parseInt(input.value, 10);
        else if (widget === "float" || widget === "duration") values[key] = parseFloat(input.value);
        else if (widget === "json") values[key] = JSON.parse(input.value);
        else values[key] = input.value;
      }
      const answer = await post(`/launch/${enc(project)}/${enc(domain)}/${enc(name)}`, {version: lp.version, inputs: values});
      navigate("/executions/" + enc(answer.execution));
    } catch (err) {
      put(result, h("div", {class: "error-box", id: "launch-error"}, err.message));
      launchButton.disabled = false;
    }
  });
  add(page, h("div", {class: "muted"}, link(`/entities/launch%20plan/${enc(project)}/${enc(domain)}/${enc(name)}`, name), ` / ${project} / ${domain}`),
              h("h1", {}, "Launch " + name), h("p", {class: "muted"}, `version ${lp.version} · runs workflow ${lp.workflow}`), form);
}

const BLOB_WIDGETS = new Set(["file", "directory"]);

function checkUploadSizes(key, chooser, maxMib) {
  // Refused before anything is sent (the server refuses it too).
  if (!chooser) return;
  for (const file of chooser.files) {
    if (file.size > maxMib * 1024 * 1024) {
      throw new Error(`${key}: file "${file.name}" is ${(file.size / 1048576).toFixed(1)} MiB; the console takes ` +
        `uploads up to ${maxMib} MiB per file. Give an s3:// URI instead, or pass the local path to ` +
        "`skiff run --sandbox`, which uploads any size.");
    }
  }
}

async function uploadOne(file, relativePath, project, domain, uploadId) {
  const csrf = document.querySelector("meta[name=csrf]").content;
  const q = new URLSearchParams({name: relativePath, project, domain});
  if (uploadId) q.set("upload", uploadId);
  const response = await fetch("/api/upload?" + q, {
    method: "POST", credentials: "same-origin",
    headers: {"Content-Type": "application/octet-stream", "X-Skiff-CSRF": csrf}, body: file});
  const answer = await response.json().catch(() => ({error: response.statusText}));
  if (!response.ok) throw new Error(answer.error || response.statusText);
  return answer;
}

async function uploadChosen(chooser, widget, project, domain) {
  // A File: its URI. A Directory: every file under one upload, the directory's own URI.
  const files = [...chooser.files];
  if (widget === "file") return (await uploadOne(files[0], files[0].name, project, domain)).uri;
  let upload = null, root = null;
  for (const file of files) {
    const answer = await uploadOne(file, file.webkitRelativePath || file.name, project, domain, upload);
    upload = answer.upload; root = answer.root;
  }
  const top = (files[0].webkitRelativePath || "").split("/")[0];
  return top ? `${root}/${top}` : root;
}

// ---- cache and reproductions -----------------------------------------------------------------

async function cachePage(page) {
  document.title = "Cache · Skiff";
  const box = h("div", {});
  add(page, h("h1", {}, "Task cache"), box);
  const load = async () => {
    const items = await api("/cache");
    if (!items.length) { put(box, h("p", {class: "muted"}, "The cache is empty.")); return; }
    put(box, h("table", {id: "cache"},
      h("thead", {}, h("tr", {}, ["Task", "Cache version", "Project / domain", "Entries", "Latest", ""].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((c) => h("tr", {"data-task": c.task},
        h("td", {class: "mono"}, c.task), h("td", {}, c.cache_version), h("td", {}, `${c.project} / ${c.domain}`),
        h("td", {}, String(c.entries)), h("td", {}, fmtTime(c.latest)),
        h("td", {}, h("button", {class: "secondary", onclick: async () => {
          if (!confirm(`Forget every cached result of ${c.task}?`)) return;
          try { await post("/cache/clear", {task: c.task}); await load(); } catch (err) { showBanner(err.message); }
        }}, "Clear")))))));
  };
  await load();
}

async function reproductionsPage(page) {
  document.title = "Reproductions · Skiff";
  const items = await api("/reproductions");
  add(page, h("h1", {}, "Reproductions"),
    items.length ? h("table", {id: "reproductions"},
      h("thead", {}, h("tr", {}, ["Remote execution", "Here", "Result", "When", "Differences"].map((t) => h("th", {}, t)))),
      h("tbody", {}, items.map((r) => h("tr", {},
        h("td", {class: "mono"}, r.source, r.endpoint ? h("div", {class: "muted"}, r.endpoint) : null),
        h("td", {}, r.execution ? link("/executions/" + enc(r.execution), r.execution) : "—"),
        h("td", {}, h("span", {class: "badge " + (r.identical ? "succeeded" : "failed")}, r.identical ? "identical" : "differs")),
        h("td", {}, fmtTime(r.at)),
        h("td", {}, r.diff ? h("details", {}, h("summary", {}, "node by node"), h("pre", {class: "value mono"}, r.diff)) : "—")))))
    : h("p", {class: "muted"}, "No reproductions yet: `skiff reproduce EXECUTION_URL` runs a remote execution here and records the diff."));
}

window.addEventListener("error", (event) => showBanner("console error: " + event.message));
route();
