// The inspector's page: one self-contained HTML document (inline CSS and JS, nothing fetched from
// elsewhere). It keeps the nodes it was sent, applies the batches the server streams, and redraws
// at most every 250 ms. Every name is user data: it is set with textContent, never as HTML.

/** @internal The page, with the script's nonce for the Content-Security-Policy. */
export function inspectorPage(nonce: string): string {
	return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>taskscope inspector</title>
<link rel="icon" href="data:,">
<style nonce="${nonce}">
body { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; margin: 0; color: #1b1f24; background: #fafbfc; }
header { position: sticky; top: 0; background: #24292f; color: #fff; padding: 8px 12px; display: flex; gap: 16px; align-items: center; }
header h1 { font-size: 14px; margin: 0; }
header input { font: inherit; padding: 3px 6px; width: 260px; border-radius: 4px; border: 0; }
#status { opacity: .8 } #counts { margin-left: auto; opacity: .8 }
table { border-collapse: collapse; width: 100%; }
th { text-align: left; font-weight: 600; background: #eaeef2; position: sticky; top: 36px; }
td, th { padding: 2px 10px; white-space: nowrap; }
tr.scope td.name { font-weight: 600; }
tr.request td.name { color: #0550ae; }
td.state.running, td.state.open { color: #1a7f37; }
td.state.cancelled, td.state.cancelling { color: #9a6700; }
td.state.failed { color: #cf222e; }
td.state.completed, td.state.closed { color: #57606a; }
tr.ended { opacity: .6; }
tr.straggler { background: #ffebe9; }
tr.straggler td.state::after { content: ' straggler'; color: #cf222e; font-weight: 600; }
#more { padding: 6px 12px; color: #57606a; }
</style>
</head>
<body>
<header><h1>taskscope inspector</h1><input id="filter" placeholder="filter by name or request path" autofocus><span id="status">connecting…</span><span id="counts"></span></header>
<table><thead><tr><th>name</th><th>kind</th><th>state</th><th>age</th><th>request</th></tr></thead><tbody id="rows"></tbody></table>
<div id="more"></div>
<script nonce="${nonce}">
"use strict";
const MAX_ROWS = 2000;
const nodes = new Map();
let offset = 0, dirty = true, filter = "";
const rowsEl = document.getElementById("rows"), statusEl = document.getElementById("status");
const countsEl = document.getElementById("counts"), moreEl = document.getElementById("more");
document.getElementById("filter").addEventListener("input", (e) => { filter = e.target.value.trim().toLowerCase(); dirty = true; });
const token = new URLSearchParams(location.search).get("token");
const base = location.pathname.endsWith("/") ? location.pathname : location.pathname + "/";
const source = new EventSource(base + "events" + (token ? "?token=" + encodeURIComponent(token) : ""));
source.addEventListener("open", () => { statusEl.textContent = "live"; });
source.addEventListener("error", () => { statusEl.textContent = "reconnecting…"; });
source.addEventListener("reset", () => { nodes.clear(); dirty = true; });
source.addEventListener("message", (event) => {
  const batch = JSON.parse(event.data);
  offset = batch.now - Date.now();
  for (const key of batch.remove) nodes.delete(key);
  for (const node of batch.upsert) nodes.set(node.key, node);
  dirty = true;
});
const idOf = (key) => Number(key.slice(1));
function stateLabel(node) {
  if (node.state === "cancelled" || node.state === "cancelling") return node.state + (node.reason ? " (" + node.reason + ")" : "");
  if (node.type === "scope" && node.state === "closed" && node.reason && node.reason !== "parent-completion") return "closed, cancelled (" + node.reason + ")";
  return node.state;
}
function ended(node) { return node.type === "task" ? node.state !== "running" : node.state === "closed"; }
function age(node, now) {
  if (node.durationMs !== null) return ms(node.durationMs);
  return node.startedAt === null ? "" : ms(now - node.startedAt);
}
function ms(value) { return value < 1000 ? Math.round(value) + " ms" : value < 60000 ? (value / 1000).toFixed(1) + " s" : Math.round(value / 60000) + " min"; }
function matches(node) { return node.name.toLowerCase().includes(filter) || (node.path !== null && node.path.toLowerCase().includes(filter)); }
function render() {
  const now = Date.now() + offset;
  const children = new Map(), roots = [];
  let scopes = 0, tasks = 0;
  for (const node of nodes.values()) {
    if (node.type === "scope") scopes++; else tasks++;
    if (node.parent === null || !nodes.has(node.parent)) { roots.push(node); continue; }
    let list = children.get(node.parent);
    if (list === undefined) children.set(node.parent, list = []);
    list.push(node);
  }
  const shown = new Set();
  if (filter !== "") {
    for (const node of nodes.values()) {
      if (!matches(node)) continue;
      for (let at = node; at !== undefined && !shown.has(at.key); at = nodes.get(at.parent)) shown.add(at.key);
    }
  }
  const order = (a, b) => (a.type === b.type ? idOf(a.key) - idOf(b.key) : a.type === "task" ? -1 : 1);
  const fragment = document.createDocumentFragment();
  let count = 0, hidden = 0;
  const stack = roots.sort(order).reverse().map((node) => [node, 0, false]);
  while (stack.length > 0) {
    const [node, depth, inside] = stack.pop();
    const visible = filter === "" || inside || shown.has(node.key);
    if (!visible) continue;
    const within = inside || (filter !== "" && matches(node));
    if (count >= MAX_ROWS) { hidden++; } else { fragment.appendChild(row(node, depth, now)); count++; }
    const list = children.get(node.key);
    if (list !== undefined) for (const child of list.sort(order).reverse()) stack.push([child, depth + 1, within]);
  }
  rowsEl.replaceChildren(fragment);
  countsEl.textContent = scopes + " scopes, " + tasks + " tasks";
  moreEl.textContent = hidden > 0 ? hidden + " more rows not shown: narrow the filter" : "";
}
function row(node, depth, now) {
  const tr = document.createElement("tr");
  tr.dataset.key = node.key;
  tr.className = node.type + (node.kind.startsWith("request") ? " request" : "") + (ended(node) ? " ended" : "") + (node.stragglers > 0 ? " straggler" : "");
  const name = cell(tr, "name", node.name || "(unnamed)");
  name.style.paddingLeft = 10 + depth * 16 + "px";
  cell(tr, "kind", node.kind);
  cell(tr, "state " + node.state, stateLabel(node)).title = node.reasonMessage || "";
  cell(tr, "age", age(node, now));
  cell(tr, "request", node.method === null && node.path === null ? "" : (node.method || "") + " " + (node.path || "") + (node.requestId ? " #" + node.requestId : ""));
  return tr;
}
function cell(tr, className, text) { const td = document.createElement("td"); td.className = className; td.textContent = text; tr.appendChild(td); return td; }
let lastRender = 0;
setInterval(() => {
  const now = Date.now();
  if (!dirty && now - lastRender < 1000) return;
  dirty = false; lastRender = now; render();
}, 250);
</script>
</body>
</html>
`
}
