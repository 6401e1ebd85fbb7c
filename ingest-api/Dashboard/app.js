// PricingOptimizer's dashboard: a page over the public API only. The API key is exchanged for a token kept in this
// script's memory (never in storage); every figure is the API's, formatted for reading. Charts are drawn as SVG here.
"use strict";

const state = { token: null, plan: null };
const palette = ["#0b57d0", "#b3261e", "#137333", "#8430ce", "#b06000", "#007b83", "#5f6368", "#c5221f"];

// ---- DOM helpers: text is always set as text, never parsed as HTML.
function h(tag, attrs, ...children) {
  const el = tag.startsWith("svg:") ? document.createElementNS("http://www.w3.org/2000/svg", tag.slice(4)) : document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue;
    if (k.startsWith("on")) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c));
  return el;
}
const view = () => document.getElementById("view");
// A table that may be wider than the screen scrolls in its own box, which the keyboard can reach and scroll.
function scroll(table) {
  const label = table.querySelector("caption")?.textContent || table.id || "table";
  return h("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": label }, table);
}
function show(...nodes) { view().replaceChildren(...nodes); document.getElementById("main").focus(); }

// ---- Formatting: one rule per kind of figure, so the page reads like the API's numbers.
const dash = "—";
const fmt = {
  price: v => v == null ? dash : Number(v).toFixed(2),
  count: v => v == null ? dash : Number(v).toLocaleString("en-US"),
  pct: v => v == null ? dash : (v * 100).toFixed(1) + "%",
  signedPct: v => v == null ? dash : (v >= 0 ? "+" : "") + (v * 100).toFixed(1) + "%",
  value: v => v == null ? dash : Number(v).toFixed(3),
  interval: (ci, f) => ci == null ? dash : `${f(ci[0])} to ${f(ci[1])}`,
};

// ---- The API.
class ApiError extends Error {
  constructor(status, problem) { super(problem?.detail || problem?.title || `HTTP ${status}`); this.status = status; this.problem = problem; }
}
async function api(method, path, body, headers) {
  const response = await fetch(path, {
    method,
    cache: "no-store", // the API's max-age is for SDKs; a page that just moved an experiment must see the move
    headers: { ...(state.token ? { Authorization: `Bearer ${state.token}` } : {}), ...(body ? { "Content-Type": "application/json" } : {}), ...(headers || {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  if (response.status === 401 && state.token) { signOut("Your session ended; sign in again."); throw new ApiError(401, null); }
  const text = await response.text();
  const json = text ? JSON.parse(text) : null;
  if (!response.ok) throw new ApiError(response.status, json);
  return { json, etag: response.headers.get("ETag") };
}
const get = async path => (await api("GET", path)).json;

function problem(e) {
  const field = e.problem?.field ? ` (${e.problem.field})` : "";
  return h("p", { class: "error", role: "alert" }, `${e.message}${field}`);
}

// ---- Sign in and out.
async function signIn(event) {
  event.preventDefault();
  const key = document.getElementById("api-key");
  const error = document.getElementById("sign-in-error");
  error.textContent = "";
  try {
    const { json } = await api("POST", "/v1/auth/token", { api_key: key.value.trim() });
    state.token = json.access_token;
    state.plan = json.plan;
    key.value = "";
    document.getElementById("sign-in").hidden = true;
    document.getElementById("nav").hidden = false;
    route();
  } catch (e) {
    error.textContent = e.status === 401 || e.status === 400 ? "That API key was not accepted." : `Sign-in failed: ${e.message}`;
  }
}
function signOut(message) {
  state.token = null;
  document.getElementById("nav").hidden = true;
  document.getElementById("sign-in").hidden = false;
  document.getElementById("sign-in-error").textContent = message || "";
  view().replaceChildren();
  document.getElementById("api-key").focus();
}

// ---- Routing: #/, #/experiments/{id}, #/new, #/usage.
async function route() {
  if (!state.token) return;
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/experiments/")) await experimentPage(decodeURIComponent(hash.slice("#/experiments/".length)));
    else if (hash === "#/new") newExperimentPage();
    else if (hash === "#/usage") await usagePage();
    else await listPage();
  } catch (e) {
    if (e instanceof ApiError && e.status === 401) return;
    show(h("h1", {}, "Something went wrong"), e instanceof ApiError ? problem(e) : h("p", { class: "error" }, String(e)));
  }
}

// ---- The experiment list: the dashboard endpoint.
async function listPage() {
  const board = await get("/v1/analytics/experiments");
  document.title = "Experiments — PricingOptimizer";
  const rows = board.experiments.map(e => {
    const leader = e.variants.find(v => v.variant_id === e.leading_variant_id);
    const flags = [];
    if (e.health?.sample_ratio_mismatch) flags.push("sample ratio mismatch");
    if (e.health?.multiple_exposure_high) flags.push("users in several variants");
    return h("tr", { "data-experiment": e.experiment_id },
      h("td", {}, h("a", { href: `#/experiments/${encodeURIComponent(e.experiment_id)}` }, e.name || e.experiment_id)),
      h("td", { "data-field": "status" }, e.status),
      h("td", { class: "num", "data-field": "days_running" }, fmt.count(e.days_running)),
      h("td", { class: "num", "data-field": "users" }, fmt.count(e.users)),
      h("td", { "data-field": "leader" }, leader ? `${leader.variant_id} (${fmt.price(leader.price)} ${e.currency ?? ""})` : dash),
      h("td", { class: "num", "data-field": "chance" }, fmt.pct(e.leading_chance_to_beat_control)),
      h("td", { "data-field": "goal" }, e.goal ?? dash),
      h("td", { "data-field": "health", class: flags.length ? "warn" : "ok" }, flags.length ? flags.join(", ") : "ok"),
      h("td", { class: "num", "data-field": "users_still_needed" }, fmt.count(e.users_still_needed)));
  });
  show(
    h("h1", {}, "Experiments"),
    h("p", { class: "muted" }, `${board.experiments.length} experiments; figures as of ${new Date(board.generated_at).toUTCString()}.`),
    board.experiments.length === 0 ? h("p", {}, "No experiments yet. ", h("a", { href: "#/new" }, "Create one.")) :
      scroll(h("table", { id: "experiments" },
        h("caption", {}, "Every experiment, its leader on its goal and its health"),
        h("thead", {}, h("tr", {}, ["experiment", "status", "days", "users", "leading", "chance to beat control", "goal", "health", "users still needed"]
          .map((c, i) => h("th", { scope: "col", class: [2, 3, 5, 8].includes(i) ? "num" : null }, c)))),
        h("tbody", {}, rows))));
}

// ---- One experiment.
async function experimentPage(id) {
  const path = `/v1/experiments/${encodeURIComponent(id)}`;
  const { json: experiment, etag } = await api("GET", path);
  document.title = `${experiment.name} — PricingOptimizer`;
  const goal = experiment.goal || "revenue";
  const sections = [h("h1", {}, experiment.name, " ", h("span", { class: "muted" }, `(${experiment.experiment_id}, ${experiment.status})`))];
  sections.push(lifecycle(experiment, etag, path));

  let readout = null;
  try { readout = await get(`${path}/readout`); } catch (e) { sections.push(h("p", { class: "muted" }, `No readout yet: ${e.message}`)); }
  let recommendation = null;
  if (readout) {
    const query = goal === "profit" && experiment.unit_cost != null ? `goal=profit&unit_cost=${experiment.unit_cost}` : `goal=${goal}`;
    try { recommendation = await get(`${path}/recommendation?${query}`); } catch (e) { sections.push(h("p", { class: "muted" }, `No recommendation: ${e.message}`)); }
  }
  if (recommendation) sections.push(h("p", { class: "headline", id: "decision" }, recommendation.headline));
  if (readout) {
    sections.push(h("p", { class: "headline", id: "readout-headline" }, goal === "conversions" ? readout.headline_conversions : readout.headline));
    sections.push(variantsTable(readout, experiment.currency));
    const metric = goal === "conversions" ? "conversion_rate" : "revenue_per_user";
    const series = await get(`/v1/analytics/experiments/${encodeURIComponent(id)}/timeseries?metric=${metric}`);
    const charts = [liftChart(series, readout, metric)];
    if (recommendation?.status === "ok") charts.push(valueCurveChart(recommendation));
    sections.push(h("div", { class: "charts" }, charts));
  }
  if (recommendation) sections.push(...recommendationDetails(recommendation));
  if (experiment.allocation?.mode === "adaptive") sections.push(await allocationSection(path, experiment));
  show(...sections);
}

function lifecycle(experiment, etag, path) {
  const moves = { draft: ["start"], active: ["pause", "complete"], paused: ["start", "complete"], completed: [] }[experiment.status] || [];
  const message = h("p", { role: "status", id: "lifecycle-status" });
  const buttons = moves.map(move => h("button", {
    type: "button", class: move === "complete" ? "secondary" : null, "data-move": move,
    onclick: async () => {
      try {
        await api("POST", `${path}/${move}`, null, { "If-Match": etag });
        await experimentPage(experiment.experiment_id);
        document.getElementById("lifecycle-status").textContent = `Done: ${move}.`;
      } catch (e) {
        message.replaceChildren(e.status === 412 ? "Someone changed this experiment meanwhile; the page is reloaded, try again." : `${e.message}`);
        if (e.status === 412) setTimeout(() => experimentPage(experiment.experiment_id), 0);
      }
    },
  }, move[0].toUpperCase() + move.slice(1)));
  return h("div", { class: "actions" }, buttons, message);
}

function variantsTable(readout, currency) {
  const head = ["variant", "price", "users", "buyers", "conversion rate", "95% interval", "revenue per user", "revenue lift", "95% interval", "chance to beat control"];
  return scroll(h("table", { id: "variants" },
    h("caption", {}, `Variants against the control ${readout.control_variant_id ?? dash}`),
    h("thead", {}, h("tr", {}, head.map((c, i) => h("th", { scope: "col", class: i >= 1 && i !== 5 && i !== 8 ? "num" : null }, c)))),
    h("tbody", {}, readout.variants.map(v => h("tr", { "data-variant": v.variant_id },
      h("th", { scope: "row" }, v.variant_id + (v.variant_id === readout.control_variant_id ? " (control)" : "")),
      h("td", { class: "num", "data-field": "price" }, `${fmt.price(v.price)} ${currency}`),
      h("td", { class: "num", "data-field": "users" }, fmt.count(v.users)),
      h("td", { class: "num", "data-field": "conversions" }, fmt.count(v.conversions)),
      h("td", { class: "num", "data-field": "conversion_rate" }, fmt.pct(v.conversion_rate)),
      h("td", { "data-field": "conversion_rate_ci" }, fmt.interval(v.conversion_rate_ci, fmt.pct)),
      h("td", { class: "num", "data-field": "revenue_per_user" }, fmt.value(v.revenue_per_user)),
      h("td", { class: "num", "data-field": "revenue_lift" }, fmt.signedPct(v.revenue_lift)),
      h("td", { "data-field": "revenue_lift_ci" }, fmt.interval(v.revenue_lift_ci, fmt.signedPct)),
      h("td", { class: "num", "data-field": "revenue_chance_to_beat_control" }, fmt.pct(v.revenue_chance_to_beat_control)))))));
}

function recommendationDetails(r) {
  const out = [];
  if (r.models?.length) out.push(h("h2", {}, "Demand models"), modelsTable("demand-models", r.models, "held-out log-loss", m => m.held_out_log_loss?.toFixed(6)));
  if (r.revenue_models?.length) out.push(h("h2", {}, "What a buyer pays"), modelsTable("revenue-models", r.revenue_models, "held-out error", m => m.held_out_error?.toFixed(4)));
  out.push(h("h2", {}, "Reasoning"), h("ul", { class: "plain", id: "reasoning" }, r.reasoning.map(s => h("li", {}, s))));
  out.push(h("h2", {}, "Next steps"), h("ul", { class: "plain", id: "next-steps" }, r.next_steps.map(s => h("li", {}, s))));
  return out;
}

function modelsTable(id, models, errorName, error) {
  return scroll(h("table", { id },
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "family"), h("th", { scope: "col", class: "num" }, "weight"),
      h("th", { scope: "col", class: "num" }, errorName), h("th", { scope: "col" }, "fits the data"))),
    h("tbody", {}, [...models].sort((a, b) => b.weight - a.weight).map(m => h("tr", {},
      h("td", {}, m.name), h("td", { class: "num" }, fmt.pct(m.weight)), h("td", { class: "num" }, error(m) ?? dash), h("td", {}, m.fits_data ? "yes" : "no"))))));
}

async function allocationSection(path, experiment) {
  const allocation = await get(`${path}/allocation`);
  const variants = experiment.variants.map(v => v.variant_id);
  return h("section", { "aria-labelledby": "allocation-title" },
    h("h2", { id: "allocation-title" }, "Allocation weights over time"),
    h("p", {}, `Version in force: ${allocation.in_force_version}.` + (allocation.next ? ` Next update: ${allocation.next.state}.` : "")),
    scroll(h("table", { id: "allocation" },
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "version"), h("th", { scope: "col" }, "from"),
        variants.map(v => h("th", { scope: "col", class: "num" }, v)))),
      h("tbody", {},
        // Version 0, before any update, is the burn-in's equal split.
        allocation.versions.some(w => w.version === 0) ? null : h("tr", {}, h("td", {}, "0"), h("td", {}, "the start (burn-in)"),
          variants.map(() => h("td", { class: "num" }, fmt.pct(1 / variants.length)))),
        allocation.versions.map(w => h("tr", {},
          h("td", {}, String(w.version)), h("td", {}, new Date(w.starts_at).toUTCString()),
          variants.map(v => h("td", { class: "num" }, fmt.pct(w.weights[v])))))))),
    allocation.next ? h("ul", { class: "plain", id: "allocation-next" }, allocation.next.reasons.map(r => h("li", {}, r))) : null);
}

// ---- Charts as SVG: axes, a band and lines; each has a title and a text description for screen readers.
function chart({ id, title, description, xs, series, bands, points, xLabel, yLabel, yFormat, xFormat }) {
  const W = 560, H = 300, L = 56, R = 12, T = 12, B = 40;
  const allY = [...series.flatMap(s => s.ys), ...bands.flatMap(b => [...b.lo, ...b.hi]), ...points.map(p => p.y)].filter(v => v != null && isFinite(v));
  if (allY.length === 0) return h("figure", {}, h("figcaption", {}, title), h("p", { class: "muted" }, "Nothing to draw yet: no users have been assigned."));
  const allX = [...xs, ...points.map(p => p.x)];
  let [y0, y1] = [Math.min(...allY), Math.max(...allY)];
  if (y0 === y1) { y0 -= 1; y1 += 1; }
  const pad = (y1 - y0) * 0.08; y0 -= pad; y1 += pad;
  const [x0, x1] = [Math.min(...allX), Math.max(...allX) === Math.min(...allX) ? Math.min(...allX) + 1 : Math.max(...allX)];
  const sx = x => L + (x - x0) / (x1 - x0) * (W - L - R);
  const sy = y => T + (1 - (y - y0) / (y1 - y0)) * (H - T - B);
  const svg = h("svg:svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc`, id });
  svg.append(h("svg:title", { id: `${id}-title` }, title), h("svg:desc", { id: `${id}-desc` }, description));
  for (let i = 0; i <= 4; i++) {
    const y = y0 + (y1 - y0) * i / 4;
    svg.append(h("svg:line", { x1: L, x2: W - R, y1: sy(y), y2: sy(y), stroke: "#e6e9ed" }),
      h("svg:text", { x: L - 6, y: sy(y) + 4, "text-anchor": "end" }, yFormat(y)));
  }
  const ticks = xs.length <= 8 ? xs : xs.filter((_, i) => i % Math.ceil(xs.length / 8) === 0);
  for (const x of ticks) svg.append(h("svg:text", { x: sx(x), y: H - B + 16, "text-anchor": "middle" }, xFormat(x)));
  svg.append(h("svg:text", { x: (L + W - R) / 2, y: H - 6, "text-anchor": "middle" }, xLabel),
    h("svg:text", { x: 12, y: T + (H - T - B) / 2, transform: `rotate(-90 12 ${T + (H - T - B) / 2})`, "text-anchor": "middle" }, yLabel));
  if (y0 < 0 && y1 > 0) svg.append(h("svg:line", { x1: L, x2: W - R, y1: sy(0), y2: sy(0), stroke: "#5f6368", "stroke-dasharray": "4 3" }));
  for (const b of bands) {
    const top = xs.map((x, i) => [x, b.hi[i]]).filter(p => p[1] != null), bottom = xs.map((x, i) => [x, b.lo[i]]).filter(p => p[1] != null).reverse();
    if (top.length > 1) svg.append(h("svg:polygon", { points: [...top, ...bottom].map(([x, y]) => `${sx(x)},${sy(y)}`).join(" "), fill: b.color, "fill-opacity": 0.18 }));
  }
  for (const s of series) {
    const pts = xs.map((x, i) => [x, s.ys[i]]).filter(p => p[1] != null);
    if (pts.length) svg.append(h("svg:polyline", { points: pts.map(([x, y]) => `${sx(x)},${sy(y)}`).join(" "), fill: "none", stroke: s.color, "stroke-width": 2 }));
  }
  for (const p of points) svg.append(h("svg:circle", { cx: sx(p.x), cy: sy(p.y), r: 4, fill: "#1b1f24" }));
  const swatch = color => h("svg:svg", { width: 14, height: 10, viewBox: "0 0 14 10", "aria-hidden": "true", class: "swatch" },
    h("svg:rect", { x: 0, y: 3, width: 14, height: 4, fill: color }));
  const legend = h("div", { class: "legend" }, [...series.map(s => h("span", {}, swatch(s.color), " ", s.name)),
    ...(points.length ? [h("span", {}, "● observed at the tested prices")] : [])]);
  return h("figure", {}, h("figcaption", {}, title), svg, legend);
}

function liftChart(series, readout, metric) {
  const days = series.days;
  const xs = days.map((_, i) => i);
  const challengers = readout.variants.filter(v => v.variant_id !== readout.control_variant_id).map(v => v.variant_id);
  const controlValues = days.map(d => d.variants.find(p => p.variant_id === series.control_variant_id)?.value ?? null);
  const lines = challengers.map((id, k) => ({
    name: `${id} minus the control`, color: palette[k % palette.length],
    ys: days.map((d, i) => { const p = d.variants.find(v => v.variant_id === id); return p?.value != null && controlValues[i] != null ? p.value - controlValues[i] : null; }),
  }));
  const bands = challengers.map((id, k) => ({
    color: palette[k % palette.length],
    lo: days.map(d => d.variants.find(v => v.variant_id === id)?.difference_cs?.[0] ?? null),
    hi: days.map(d => d.variants.find(v => v.variant_id === id)?.difference_cs?.[1] ?? null),
  }));
  const name = metric === "conversion_rate" ? "conversion rate" : "revenue per user";
  return chart({
    id: "lift-chart", title: `Difference from the control over time (${name}), with the always-valid 95% band`,
    description: `Per day since the start, each challenger's ${name} minus the control's; the shaded band may be read on any day.`,
    xs, series: lines, bands, points: [], xLabel: "day of the test", yLabel: `${name} difference`,
    yFormat: v => metric === "conversion_rate" ? (v * 100).toFixed(1) + "%" : v.toFixed(2), xFormat: i => days[i]?.date?.slice(5) ?? "",
  });
}

function valueCurveChart(r) {
  const curve = r.value_curve;
  const xs = curve.map(p => p.price);
  const observed = curve.filter(p => p.observed_value != null).map(p => ({ x: p.price, y: p.observed_value }));
  const goal = r.goal;
  return chart({
    id: "value-curve", title: `Expected ${goal} per user by price, with its 95% band`,
    description: `The recommendation's fitted ${goal} per assigned user across prices, the band of its bootstrap draws, and the observed value at each tested price. Recommended: ${fmt.price(r.recommended_price)}.`,
    xs, series: [{ name: `expected ${goal} per user`, color: palette[0], ys: curve.map(p => p.expected_value) }],
    bands: [{ color: palette[0], lo: curve.map(p => p.lower), hi: curve.map(p => p.upper) }], points: observed,
    xLabel: `price (${r.currency ?? ""})`, yLabel: `${goal} per user`,
    yFormat: v => goal === "conversions" ? (v * 100).toFixed(0) + "%" : v.toFixed(2), xFormat: v => v.toFixed(2),
  });
}

// ---- Create an experiment.
function newExperimentPage() {
  document.title = "New experiment — PricingOptimizer";
  const rows = h("div", { id: "variant-rows" });
  const addRow = (id = "", price = "", control = false) => {
    const n = rows.children.length + 1;
    rows.append(h("div", { class: "variant-row" },
      h("label", {}, `Variant ${n} id `, h("input", { name: "variant_id", value: id, required: true })),
      h("label", {}, "price ", h("input", { name: "price", type: "number", step: "0.01", min: "0.01", value: price, required: true })),
      h("label", {}, h("input", { type: "radio", name: "control", value: String(n - 1), checked: control }), " control")));
  };
  addRow("", "", true); addRow();
  const message = h("p", { role: "alert", class: "error", id: "create-error" });
  const form = h("form", { id: "create-form", onsubmit: async e => {
    e.preventDefault();
    const data = new FormData(form);
    const ids = data.getAll("variant_id"), prices = data.getAll("price"), control = Number(data.get("control") ?? 0);
    const body = {
      experiment_id: data.get("experiment_id") || undefined, name: data.get("name"), currency: data.get("currency"), goal: data.get("goal"),
      variants: ids.map((id, i) => ({ variant_id: id, price: Number(prices[i]), control: i === control })),
    };
    try {
      const { json } = await api("POST", "/v1/experiments", body);
      location.hash = `#/experiments/${encodeURIComponent(json.experiment_id)}`;
    } catch (err) { message.textContent = `${err.message}${err.problem?.field ? ` (${err.problem.field})` : ""}`; }
  } },
    h("label", { for: "f-id" }, "Experiment id (optional)"), h("input", { id: "f-id", name: "experiment_id" }),
    h("label", { for: "f-name" }, "Name"), h("input", { id: "f-name", name: "name", required: true }),
    h("label", { for: "f-currency" }, "Currency"), h("input", { id: "f-currency", name: "currency", value: "USD", required: true, maxlength: 3 }),
    h("label", { for: "f-goal" }, "Decided on"), h("select", { id: "f-goal", name: "goal" },
      h("option", { value: "revenue" }, "revenue"), h("option", { value: "profit" }, "profit"), h("option", { value: "conversions" }, "conversions")),
    h("fieldset", {}, h("legend", {}, "Prices"), rows, h("button", { type: "button", class: "secondary", onclick: () => addRow() }, "Add a price")),
    h("div", { class: "actions" }, h("button", { type: "submit" }, "Create (as a draft)")), message);
  show(h("h1", {}, "New experiment"), form);
}

// ---- Usage, trend and bill.
async function usagePage() {
  const month = new Date().toISOString().slice(0, 7);
  const [usage, trend, bill] = await Promise.all([get("/v1/usage"), get("/v1/usage/trend"), get(`/v1/billing/${month}`)]);
  document.title = "Usage and bill — PricingOptimizer";
  const days = usage.days;
  show(
    h("h1", {}, `Usage and bill, ${usage.month}`),
    h("p", { class: "headline", id: "usage-summary" },
      `${fmt.count(usage.events)} of ${fmt.count(usage.included_events)} included events used (${fmt.pct(usage.percent_of_included_events / 100)}) on the ${usage.plan} plan; ` +
      `projected ${fmt.count(trend.projected_events)} events and a bill of ${fmt.price(trend.projected_bill)} ${trend.currency} by the month's end.`),
    scroll(h("table", { id: "bill" }, h("caption", {}, "This month's bill so far"),
      h("tbody", {},
        h("tr", {}, h("th", { scope: "row" }, "plan"), h("td", { "data-field": "plan" }, bill.plan)),
        h("tr", {}, h("th", { scope: "row" }, "events"), h("td", { class: "num", "data-field": "events" }, fmt.count(bill.events))),
        h("tr", {}, h("th", { scope: "row" }, "base price"), h("td", { class: "num", "data-field": "base_price" }, `${fmt.price(bill.base_price)} ${bill.currency}`)),
        h("tr", {}, h("th", { scope: "row" }, "overage"), h("td", { class: "num", "data-field": "overage_charge" }, `${fmt.price(bill.overage_charge)} ${bill.currency}`)),
        h("tr", {}, h("th", { scope: "row" }, "total"), h("td", { class: "num", "data-field": "total" }, `${fmt.price(bill.total)} ${bill.currency}`))))),
    bill.recommendation ? h("p", {}, `Plan advice: ${bill.recommendation.reason ?? ""}`) : "",
    days.length ? chart({
      id: "usage-chart", title: "Events per day this month", description: `Events per day; ${fmt.count(usage.events)} in total so far.`,
      xs: days.map((_, i) => i), series: [{ name: "events", color: palette[0], ys: days.map(d => d.events) }], bands: [], points: [],
      xLabel: "day", yLabel: "events", yFormat: v => Math.round(v).toLocaleString("en-US"), xFormat: i => days[i]?.date?.slice(8) ?? "",
    }) : h("p", {}, "No events this month yet."),
    scroll(h("table", { id: "usage-days" }, h("caption", {}, "Per day"),
      h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "date"), h("th", { scope: "col", class: "num" }, "events"), h("th", { scope: "col", class: "num" }, "API calls"))),
      h("tbody", {}, days.map(d => h("tr", {}, h("td", {}, d.date), h("td", { class: "num" }, fmt.count(d.events)), h("td", { class: "num" }, fmt.count(d.api_calls))))))));
}

window.addEventListener("hashchange", route);
document.addEventListener("DOMContentLoaded", () => {
  document.getElementById("sign-in-form").addEventListener("submit", signIn);
  document.getElementById("sign-out").addEventListener("click", () => signOut("Signed out."));
});
