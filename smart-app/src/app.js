// The CRS timeline: reads the chart with the page's own SMART token, asks crs-cds to grade it with the cards'
// rules (POST ../smart/timeline), and draws it. Every mark carries data-* attributes (series, time, value,
// reference, evidence, unusable) so tests and assistive tools can read what is drawn.
import FHIR from "fhirclient";
import * as Plot from "@observablehq/plot";

const C = {
  orange: "#E69F00", sky: "#56B4E9", green: "#009E73", yellow: "#F0E442",
  blue: "#0072B2", vermillion: "#D55E00", purple: "#CC79A7", ink: "#111111", grey: "#777777",
};
const GRADE_FILL = { 0: "#dddddd", 1: C.yellow, 2: C.orange, 3: C.vermillion, 4: C.purple };
const LEVEL_FILL = { 0: "#f2f2f2", 2: "#cfe8f6", 3: "#9fd0ee", 4: "#5fb0e0" };
const MAX_MEDICATIONS = 50;
const $ = (id) => document.getElementById(id);

const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
const timeFormat = new Intl.DateTimeFormat(undefined, {
  month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZoneName: "short",
});
const zoneName = (d) => new Intl.DateTimeFormat(undefined, { timeZoneName: "short" })
  .formatToParts(d).find((p) => p.type === "timeZoneName")?.value ?? "";
const when = (iso) => (iso ? timeFormat.format(new Date(iso)) : "unknown time");
const num = (v) => (Number.isInteger(v) ? String(v) : v.toFixed(1));
const dayFormat = new Intl.DateTimeFormat(undefined, { day: "numeric", month: "short" });
const hourFormat = new Intl.DateTimeFormat(undefined, { hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
const tick = (d) => (d.getHours() === 0 && d.getMinutes() === 0 ? dayFormat.format(d) : hourFormat.format(d));
// The time span drawn: [from, to]; every mark stays in the page (clipped to the frame), whatever the span.
const view = { from: null, to: null };

const CONCEPT = {
  temperature: { label: "Temperature", unit: "°C" },
  systolic: { label: "Systolic blood pressure", unit: "mmHg" },
  bp_panel: { label: "Blood pressure", unit: "mmHg" },
  spo2: { label: "SpO2", unit: "%" },
  fio2: { label: "FiO2", unit: "%" },
  o2_flow: { label: "Oxygen flow", unit: "L/min" },
  o2_device: { label: "Oxygen device", unit: "" },
  ice_score: { label: "ICE score", unit: "/10" },
  capd: { label: "CAPD score", unit: "" },
  gcs: { label: "Glasgow Coma Scale", unit: "/15" },
  heart_rate: { label: "Heart rate", unit: "/min" },
  respiratory_rate: { label: "Respiratory rate", unit: "/min" },
};
const conceptLabel = (c) => CONCEPT[c]?.label ?? c.replace(/_/g, " ");

// ---------------------------------------------------------------- reading the chart (with the page's token)

async function readChart(client, lookbackDays) {
  const pid = encodeURIComponent(client.patient.id);
  const since = new Date(Date.now() - lookbackDays * 864e5).toISOString().slice(0, 10);
  const queries = {
    patient: `Patient/${pid}`,
    medicationAdministrations: `MedicationAdministration?patient=${pid}&_count=100`,
    medicationRequests: `MedicationRequest?patient=${pid}&_count=100`,
    medicationStatements: `MedicationStatement?patient=${pid}&_count=100`,
    medicationDispenses: `MedicationDispense?patient=${pid}&_count=100`,
    procedures: `Procedure?patient=${pid}&_count=100`,
    conditions: `Condition?patient=${pid}&_count=100`,
    observations: `Observation?patient=${pid}&date=ge${since}&_count=200`,
  };
  const names = Object.keys(queries);
  const settled = await Promise.allSettled(
    names.map((n) => (n === "patient" ? client.request(queries[n]) : client.request(queries[n], { pageLimit: 0, flat: true }))),
  );
  const resources = [];
  const failed = [];
  settled.forEach((result, i) => {
    if (result.status === "fulfilled") resources.push(...[].concat(result.value || []));
    else failed.push(names[i]);
  });
  const refs = [...new Set(resources.map((r) => r?.medicationReference?.reference)
    .filter((ref) => typeof ref === "string" && /^Medication\/[A-Za-z0-9\-.]{1,64}$/.test(ref)))];
  const meds = await Promise.allSettled(refs.slice(0, MAX_MEDICATIONS).map((ref) => client.request(ref)));
  meds.forEach((m) => (m.status === "fulfilled" ? resources.push(m.value) : null));
  if (meds.some((m) => m.status === "rejected")) failed.push("medications");
  return { resources: resources.filter((r) => r && typeof r === "object"), failed };
}

async function evaluate(resources, patientId) {
  const response = await fetch("../smart/timeline", {
    method: "POST",
    headers: { "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ resources, patientId }),
  });
  if (!response.ok) throw new Error(`crs-cds answered ${response.status} to the timeline request`);
  return response.json();
}

function appContext(client) {
  const raw = client.state?.tokenResponse?.appContext;
  if (typeof raw !== "string" || !raw) return null;
  try {
    const parsed = JSON.parse(raw);
    return parsed && typeof parsed === "object" ? parsed : null;
  } catch {
    return null;
  }
}

// ---------------------------------------------------------------- marks tagged with what they show

function tagged(series, rows, extra = () => ({})) {
  return (index, scales, values, dimensions, context, next) => {
    const g = next(index, scales, values, dimensions, context);
    // The mark's own elements (circles, paths, rects, lines: never groups), in index order, inside the group(s)
    // Plot wraps them in for styles and clipping.
    let children = [...g.children];
    while (children.length === 1 && children[0].tagName === "g") children = [...children[0].children];
    children = children.filter((el) => el.tagName !== "clipPath" && el.tagName !== "defs");
    index.forEach((i, k) => {
      const el = children[k];
      const row = rows[i];
      if (!el || !row) return;
      const attrs = { series, t: row.t ?? row.start, value: row.value, ref: row.reference, ...extra(row) };
      for (const [key, value] of Object.entries(attrs)) {
        if (value !== undefined && value !== null) el.setAttribute(`data-${key}`, String(value));
      }
    });
    return g;
  };
}

function tagAll(attrs) {
  return (index, scales, values, dimensions, context, next) => {
    const g = next(index, scales, values, dimensions, context);
    for (const [key, value] of Object.entries(attrs)) g.setAttribute(`data-${key}`, String(value));
    return g;
  };
}

// ---------------------------------------------------------------- drawing

function points(series, evidence) {
  return (series || []).map((p) => ({ ...p, date: new Date(p.t), evidence: evidence.has(p.reference) }));
}

function unusableOf(body, concepts) {
  return body.unusable.filter((u) => concepts.includes(u.concept) && u.t)
    .map((u) => ({ ...u, date: new Date(u.t), value: null }));
}

// A label starting in the last fifth of the span is written leftwards, so it stays inside the frame.
const late = (date) => date.getTime() > view.from.getTime() + 0.8 * (view.to.getTime() - view.from.getTime());

// Labels beside their mark: rightwards, or leftwards near the right edge (two marks: Plot's textAnchor and dx
// are constants, not channels). `at(d)` is the label's time.
function sideLabels(rows, at, gap, options) {
  const x = (d) => (at(d) < view.from ? view.from : at(d));
  return [
    Plot.text(rows.filter((d) => !late(at(d))), { ...options, x, textAnchor: "start", dx: gap }),
    Plot.text(rows.filter((d) => late(at(d))), { ...options, x, textAnchor: "end", dx: -gap }),
  ];
}

function clipped(marks) {
  for (const mark of marks) mark.clip = "frame";
  return marks;
}

function xScale(label = null) {
  return { type: "time", domain: [view.from, view.to], label, tickFormat: tick, ticks: 6 };
}

function frame(body, width, height, y, marks) {
  return Plot.plot({
    width, height, marginLeft: 52, marginRight: 18, marginTop: 14, marginBottom: 30,
    style: { fontSize: "12px" },
    x: xScale(),
    y: { grid: true, ...y },
    marks: clipped(marks),
  });
}

function evidenceRings(rows, y, series) {
  const hits = rows.filter((r) => r.evidence);
  return Plot.dot(hits, {
    x: "date", y, r: 9, stroke: C.ink, strokeWidth: 2.5, fill: "none",
    title: (d) => `Card evidence: ${d.value} at ${when(d.t)}`,
    render: tagged(`${series}-evidence`, hits, () => ({ evidence: "true" })),
  });
}

function unusableMarks(rows, yValue, series) {
  return [
    Plot.dot(rows, {
      x: "date", y: () => yValue, symbol: "times", r: 6, stroke: C.ink, strokeWidth: 2.5,
      title: (d) => `${conceptLabel(d.concept)} not usable: ${d.reason}`,
      render: tagged(`${series}-unusable`, rows, (d) => ({ unusable: "true", reason: d.reason, concept: d.concept })),
    }),
    ...sideLabels(rows, (d) => d.date, 10, { y: () => yValue, text: () => "not usable", fontSize: 11, fontWeight: "bold" }),
  ];
}

function temperatureChart(body, width, evidence) {
  const rows = points(body.series.temperature, evidence);
  const fever = body.thresholds.feverCelsius;
  const bad = unusableOf(body, ["temperature"]);
  const values = rows.map((r) => r.value);
  const top = Math.max(40.5, ...values) + 0.3;
  return frame(body, width, 190, { domain: [Math.min(35.5, ...values) - 0.2, top], label: "°C" }, [
    Plot.ruleY([fever], { stroke: C.vermillion, strokeDasharray: "6,3", strokeWidth: 2, render: tagAll({ threshold: "fever", value: fever }) }),
    Plot.text([fever], { x: () => view.from, y: (d) => d, text: (d) => `fever ≥ ${d.toFixed(1)} °C`, textAnchor: "start", dx: 4, dy: -7, fill: C.vermillion, fontWeight: "bold" }),
    Plot.line(rows, { x: "date", y: "value", stroke: C.blue, strokeWidth: 1.5 }),
    Plot.dot(rows, {
      x: "date", y: "value", symbol: "circle", r: 3.5, fill: C.blue, stroke: "white",
      title: (d) => `Temperature ${d.value} °C at ${when(d.t)}${d.evidence ? " (card evidence)" : ""}`,
      render: tagged("temperature", rows, (d) => ({ evidence: d.evidence })),
    }),
    evidenceRings(rows, "value", "temperature"),
    ...unusableMarks(bad, top - 0.15, "temperature"),
  ]);
}

function systolicChart(body, width, evidence) {
  const rows = points(body.series.systolic, evidence);
  const steps = body.thresholds.systolic.map((s) => ({ ...s, x1: new Date(s.start), x2: new Date(s.end) }));
  const bad = unusableOf(body, ["systolic", "bp_panel"]);
  const top = Math.max(160, ...rows.map((r) => r.value)) + 10;
  return frame(body, width, 190, { domain: [40, top], label: "mmHg" }, [
    Plot.ruleY(steps, {
      x1: "x1", x2: "x2", y: "value", stroke: C.vermillion, strokeDasharray: "6,3", strokeWidth: 2,
      render: tagged("systolic-threshold", steps, (d) => ({ threshold: "hypotension", group: d.group })),
    }),
    Plot.text(steps, { x: (d) => (d.x1 < view.from ? view.from : d.x1), y: "value", text: (d) => `hypotension < ${num(d.value)} mmHg (${d.group})`, textAnchor: "start", dx: 4, dy: 12, fill: C.vermillion, fontWeight: "bold" }),
    Plot.line(rows, { x: "date", y: "value", stroke: C.green, strokeWidth: 1.5 }),
    Plot.dot(rows, {
      x: "date", y: "value", symbol: "triangle", r: 4.5, fill: C.green, stroke: "white",
      title: (d) => `Systolic ${d.value} mmHg at ${when(d.t)}${d.evidence ? " (card evidence)" : ""}`,
      render: tagged("systolic", rows, (d) => ({ evidence: d.evidence })),
    }),
    evidenceRings(rows, "value", "systolic"),
    ...unusableMarks(bad, top - 5, "systolic"),
  ]);
}


function oxygenChart(body, width, evidence) {
  const rows = points(body.series.spo2, evidence);
  const bands = body.oxygen.map((b) => ({
    ...b, x1: new Date(b.start), x2: new Date(b.end), t: b.start,
    evidence: evidence.has(b.reference),
    label: `${b.device.replace(/-/g, " ")}${b.flowLMin != null ? ` ${num(b.flowLMin)} L/min` : ""}`,
  }));
  const bad = unusableOf(body, ["spo2", "fio2", "o2_flow", "o2_device"]);
  const assess = body.thresholds.spo2AssessBelow;
  return frame(body, width, 190, { domain: [70, 102], label: "SpO2 %" }, [
    Plot.rect(bands, {
      x1: "x1", x2: "x2", y1: 70, y2: 102,
      fill: (d) => LEVEL_FILL[d.astctLevel] ?? "#e8e8e8", stroke: (d) => (d.evidence ? C.ink : "none"), strokeWidth: 2,
      title: (d) => `Oxygen: ${d.label} from ${when(d.start)}`,
      render: tagged("oxygen", bands, (d) => ({ device: d.device, flow: d.flowLMin, level: d.astctLevel, evidence: d.evidence })),
    }),
    ...sideLabels(bands, (d) => d.x1, 3, {
      y: 100, text: "label", fontSize: 11, lineAnchor: "top", stroke: "white", strokeWidth: 3, paintOrder: "stroke",
      fill: C.ink,
    }),
    Plot.ruleY([assess], { stroke: C.vermillion, strokeDasharray: "6,3", strokeWidth: 2, render: tagAll({ threshold: "spo2", value: assess }) }),
    Plot.text([assess], { x: () => view.from, y: (d) => d, text: (d) => `SpO2 < ${d} %`, textAnchor: "start", dx: 4, dy: 12, fill: C.vermillion, fontWeight: "bold" }),
    Plot.dot(rows, {
      x: "date", y: "value", symbol: "square", r: 4, fill: C.blue, stroke: "white",
      title: (d) => `SpO2 ${d.value} % at ${when(d.t)}`,
      render: tagged("spo2", rows, (d) => ({ evidence: d.evidence })),
    }),
    evidenceRings(rows, "value", "spo2"),
    ...unusableMarks(bad, 96, "oxygen"),
  ]);
}

function lanesChart(body, width, evidence) {
  // One lane each: CRS and ICANS grade steps, exposures, vasopressors, tocilizumab and corticosteroids.
  const steps = body.crs.map((s) => ({ ...s, x1: new Date(s.start), x2: new Date(s.end), t: s.start, value: s.grade }));
  const icans = (body.icans || []).map((s) => ({ ...s, x1: new Date(s.start), x2: new Date(s.end), t: s.start, value: s.grade }));
  const exposures = body.exposures.flatMap((e) => {
    const times = [...new Set([e.start, e.last].filter(Boolean))];
    return times.map((t, k) => ({ ...e, t, date: new Date(t), kind: k === 0 ? "exposure" : "last dose",
      evidence: evidence.has(e.reference) }));
  }).filter((e) => e.date >= new Date(body.start));
  const now = new Date(body.now);
  const pressors = body.vasopressors.map((v) => ({
    ...v, t: v.start, x1: new Date(v.start ?? body.start), x2: v.end ? new Date(v.end) : now, evidence: evidence.has(v.reference),
  }));
  const treatments = body.treatments.filter((x) => x.t).map((x) => ({ ...x, date: new Date(x.t), evidence: evidence.has(x.reference) }));
  const lane = { grade: "CRS grade", icans: "ICANS grade", drug: "Exposure", pressor: "Vasopressor", treatment: "Treatment" };
  const wide = (d) => ((Math.min(d.x2, view.to) - Math.max(d.x1, view.from)) / (view.to - view.from)) * (width - 100) > 26;
  return Plot.plot({
    width, height: 200, marginLeft: 84, marginRight: 18, marginTop: 8, marginBottom: 30,
    style: { fontSize: "12px" },
    x: xScale(),
    y: { type: "band", domain: Object.values(lane), label: null, padding: 0.15 },
    marks: clipped([
      Plot.rect(steps, {
        x1: "x1", x2: "x2", y: () => lane.grade,
        fill: (d) => (d.ruleId ? GRADE_FILL[d.grade ?? 0] : "white"), stroke: C.ink, strokeWidth: 0.5,
        title: (d) => `${d.grade ? `ASTCT grade ${d.isMinimum ? "≥ " : ""}${d.grade}` : d.ruleId ? "inside the CRS window, no grade" : "no CRS window"} from ${when(d.start)}`,
        render: tagged("crs", steps, (d) => ({ grade: d.grade ?? "none", rule: d.ruleId ?? "none", minimum: d.isMinimum, end: d.end })),
      }),
      Plot.text(steps, {
        x: (d) => new Date((Math.max(d.x1, view.from) + Math.min(d.x2, view.to)) / 2), y: () => lane.grade,
        text: (d) => (!wide(d) ? "" : d.grade ? `G${d.isMinimum ? "≥" : ""}${d.grade}` : d.ruleId ? "no grade" : ""),
        fontWeight: "bold",
      }),
      Plot.rect(icans, {
        x1: "x1", x2: "x2", y: () => lane.icans,
        fill: (d) => (d.severity ? GRADE_FILL[d.grade ?? 0] : "white"), stroke: C.ink, strokeWidth: 0.5,
        title: (d) => `${icansText(d)} from ${when(d.start)}`,
        render: tagged("icans", icans, (d) => ({ grade: d.grade ?? "none", severity: d.severity ?? "none", minimum: d.isMinimum, end: d.end })),
      }),
      Plot.text(icans, {
        x: (d) => new Date((Math.max(d.x1, view.from) + Math.min(d.x2, view.to)) / 2), y: () => lane.icans,
        text: (d) => (!wide(d) ? "" : !d.severity ? "no ICANS card" : d.grade ? `G${d.isMinimum ? "≥" : ""}${d.grade}${d.seizure ? " seizure" : ""}` : "not graded"),
        fontWeight: "bold",
      }),
      Plot.dot(exposures, {
        x: "date", y: () => lane.drug, symbol: "diamond", r: 6, fill: C.ink,
        title: (d) => `${d.drugName} (${d.kind}) ${when(d.t)}`,
        render: tagged("exposure", exposures, (d) => ({ drug: d.drugId, kind: d.kind, evidence: d.evidence })),
      }),
      ...sideLabels(exposures.filter((e) => e.kind === "exposure"), (d) => d.date, 9, {
        y: () => lane.drug, fontSize: 11,
        text: (d) => (d.date < view.from ? `← ${d.drugName}, ${when(d.t)}` : d.drugName),
      }),
      Plot.rect(pressors, {
        x1: "x1", x2: "x2", y: () => lane.pressor, fill: C.vermillion, fillOpacity: 0.85, stroke: (d) => (d.evidence ? C.ink : "none"), strokeWidth: 2.5,
        title: (d) => `${d.id} from ${when(d.start)}${d.end ? ` to ${when(d.end)}` : " (running)"}`,
        render: tagged("vasopressor", pressors, (d) => ({ drug: d.id, running: !d.end, evidence: d.evidence })),
      }),
      ...sideLabels(pressors, (d) => d.x1, 4, {
        y: () => lane.pressor, text: "id", fontWeight: "bold", fill: C.ink, stroke: "white", strokeWidth: 3,
        paintOrder: "stroke",
      }),
      Plot.dot(treatments, {
        x: "date", y: () => lane.treatment, symbol: (d) => (d.kind === "corticosteroid" ? "hexagon" : "star"), r: 6, fill: C.blue,
        title: (d) => `${d.id} given ${when(d.t)}`,
        render: tagged("treatment", treatments, (d) => ({ drug: d.id, kind: d.kind, evidence: d.evidence })),
      }),
      ...sideLabels(treatments, (d) => d.date, 9, { y: () => lane.treatment, text: "id", fontSize: 11 }),
    ]),
  });
}

function ratesChart(body, width, evidence) {
  const hr = points(body.series.heart_rate, evidence);
  const rr = points(body.series.respiratory_rate, evidence);
  if (!hr.length && !rr.length) return null;
  const top = Math.max(160, ...hr.map((r) => r.value), ...rr.map((r) => r.value)) + 10;
  return frame(body, width, 160, { domain: [0, top], label: "/min" }, [
    Plot.line(hr, { x: "date", y: "value", stroke: C.orange }),
    Plot.dot(hr, { x: "date", y: "value", symbol: "circle", r: 3.5, fill: C.orange, title: (d) => `Heart rate ${d.value}/min at ${when(d.t)}`, render: tagged("heart_rate", hr, (d) => ({ evidence: d.evidence })) }),
    Plot.line(rr, { x: "date", y: "value", stroke: C.sky, strokeDasharray: "3,2" }),
    Plot.dot(rr, { x: "date", y: "value", symbol: "wye", r: 4.5, fill: C.sky, stroke: C.ink, strokeWidth: 0.5, title: (d) => `Respiratory rate ${d.value}/min at ${when(d.t)}`, render: tagged("respiratory_rate", rr, (d) => ({ evidence: d.evidence })) }),
    evidenceRings([...hr, ...rr], "value", "rates"),
  ]);
}

function neuroChart(body, width, evidence) {
  const ice = points(body.series.ice_score, evidence);
  const gcs = points(body.series.gcs, evidence);
  const capd = points(body.series.capd || [], evidence);
  if (!ice.length && !gcs.length && !capd.length) return null;
  const top = Math.max(15.5, ...capd.map((r) => r.value + 1));
  return frame(body, width, 160, { domain: [0, top], label: "score" }, [
    Plot.line(ice, { x: "date", y: "value", stroke: C.purple }),
    Plot.dot(ice, { x: "date", y: "value", symbol: "diamond", r: 4.5, fill: C.purple, title: (d) => `ICE ${d.value}/10 at ${when(d.t)}`, render: tagged("ice", ice, (d) => ({ evidence: d.evidence })) }),
    Plot.line(gcs, { x: "date", y: "value", stroke: C.ink, strokeDasharray: "2,2" }),
    Plot.dot(gcs, { x: "date", y: "value", symbol: "cross", r: 4.5, fill: C.ink, title: (d) => `GCS ${d.value}/15 at ${when(d.t)}`, render: tagged("gcs", gcs, (d) => ({ evidence: d.evidence })) }),
    Plot.line(capd, { x: "date", y: "value", stroke: C.blue, strokeDasharray: "4,2" }),
    Plot.dot(capd, { x: "date", y: "value", symbol: "triangle", r: 4.5, fill: C.blue, title: (d) => `CAPD ${d.value} at ${when(d.t)} (9 or more: abnormal)`, render: tagged("capd", capd, (d) => ({ evidence: d.evidence })) }),
    evidenceRings([...ice, ...gcs, ...capd], "value", "neuro"),
  ]);
}

// ---------------------------------------------------------------- page

function figure(id, title, svg) {
  const fig = document.createElement("figure");
  fig.id = id;
  fig.tabIndex = 0;
  const caption = document.createElement("figcaption");
  caption.textContent = title;
  fig.setAttribute("aria-label", title);
  fig.append(caption, svg);
  return fig;
}

function drawCharts(body, evidence) {
  const box = $("charts");
  const width = Math.max(320, Math.min(box.clientWidth || 600, 1400));
  box.replaceChildren();
  box.dataset.width = String(width);
  const caption = `CRS grade, exposures, vasopressors and treatments (times in ${zone}, ${zoneName(view.to)})`;
  box.append(figure("chart-lanes", caption, lanesChart(body, width, evidence)));
  box.append(figure("chart-temperature", "Temperature (°C), fever line", temperatureChart(body, width, evidence)));
  box.append(figure("chart-systolic", "Systolic blood pressure (mmHg), the patient's own hypotension threshold", systolicChart(body, width, evidence)));
  box.append(figure("chart-oxygen", "SpO2 (%) with oxygen device and flow as bands", oxygenChart(body, width, evidence)));
  const rates = ratesChart(body, width, evidence);
  if (rates) box.append(figure("chart-rates", "Heart rate (circles) and respiratory rate (Y marks), per minute", rates));
  const neuro = neuroChart(body, width, evidence);
  if (neuro) box.append(figure("chart-neuro", "Neurological scores: ICE (diamonds, 0–10), GCS (crosses, 3–15) and CAPD (triangles, 0–32)", neuro));
}

function spans(body, context) {
  const now = new Date(body.now);
  const start = new Date(body.start);
  const hours = (h) => new Date(Math.max(start.getTime(), now.getTime() - h * 36e5));
  const list = [];
  if (context) {
    const times = (body.finding?.evidence ?? []).filter((e) => e.effective && (context.evidence ?? []).includes(e.reference))
      .map((e) => new Date(e.effective).getTime());
    const earliest = Math.min(now.getTime() - body.gradingWindowHours * 36e5, ...times) - 2 * 36e5;
    list.push({ id: "card", label: "Around the card's evidence", from: new Date(Math.max(start.getTime(), earliest)) });
  }
  list.push({ id: "24h", label: "Last 24 h", from: hours(24) }, { id: "72h", label: "Last 72 h", from: hours(72) },
    { id: "all", label: "Whole course", from: start });
  return list.map((s) => ({ ...s, to: now }));
}

function showSpans(body, context, evidence) {
  const box = $("span");
  const list = spans(body, context);
  const choose = (span) => {
    Object.assign(view, { from: span.from, to: span.to });
    box.querySelectorAll("button").forEach((b) => b.setAttribute("aria-pressed", String(b.dataset.span === span.id)));
    drawCharts(body, evidence);
  };
  box.replaceChildren(...list.map((span) => {
    const button = Object.assign(document.createElement("button"), { type: "button", textContent: span.label });
    button.dataset.span = span.id;
    button.addEventListener("click", () => choose(span));
    return button;
  }));
  box.hidden = false;
  choose(list[0].id === "card" ? list[0] : list[list.length - 1]);
}

function legend() {
  const box = $("legend");
  const items = [
    "● temperature", "▲ systolic", "■ SpO2", "● heart rate", "Y respiratory rate", "◆ exposure (infusion, dose)", "★ tocilizumab (anti-cytokine)", "⬢ corticosteroid",
    "▬ vasopressor running", "◯ ring: card evidence", "✕ value not usable", "- - - threshold",
  ];
  box.replaceChildren(...items.map((text) => Object.assign(document.createElement("span"), { textContent: text })));
  box.hidden = false;
}

function withUnit(value, unit) {
  // "6/10" and "38.9 °C": a score's "/10" sticks to its value.
  if (!unit) return num(value);
  return unit.startsWith("/") ? `${num(value)}${unit}` : `${num(value)} ${unit}`;
}

function icansText(step) {
  if (!step.severity) return "no ICANS card";
  const grade = step.grade == null ? "neurological finding, not graded" : gradeText(step.grade, step.isMinimum);
  return `${grade}${step.seizure ? ", seizure" : ""}`;
}

function gradeText(grade, minimum) {
  if (grade == null) return "no ASTCT grade";
  return `ASTCT grade ${minimum ? "at least " : ""}${grade}`;
}

function showNow(body) {
  const f = body.finding;
  const text = !f ? "No CRS status finding: outside every CRS exposure window (or a quiet low-tier window)."
    : f.ruleId === "crs.active" ? `Possible CRS, ${gradeText(f.astctGrade, f.astctGradeIsMinimum)} (${f.drug}).`
      : `Inside the CRS monitoring window of ${f.drug}: ${gradeText(f.astctGrade, f.astctGradeIsMinimum)}.`;
  const neuro = (body.icans || []).at(-1);
  const icans = neuro && neuro.severity ? ` ICANS: ${icansText(neuro)}.` : "";
  $("now-text").textContent = text + icans;
  $("provenance").textContent = `Computed by crs-cds with the same rules as its cards (knowledge ${body.knowledgeVersion}); `
    + `grading window ${body.gradingWindowHours} h. Steps evaluated at ${body.points.evaluated} moments`
    + `${body.points.onGrid ? " (on a grid: more changes than the limit)" : ""}.`;
  $("now").hidden = false;
}

function showCard(context, body) {
  if (!context) return;
  const cited = `The ${context.evidence?.length ?? 0} values the card cited are ringed on the charts.`;
  let text;
  if (context.ruleId === "icans.active") {
    // An ICANS card: its ICANS grade, against the ICANS lane's grade now.
    const now = (body.icans || []).at(-1);
    text = `ICANS card: ${icansText({ severity: "card", grade: context.icansGrade, isMinimum: context.icansGradeIsMinimum })}. ${cited}`;
    if (now && (now.grade !== context.icansGrade || !now.severity)) {
      text += ` The chart now gives ${icansText(now)} (data since the card).`;
    }
  } else {
    const now = body.finding;
    text = `${context.ruleId}: ${gradeText(context.astctGrade, context.astctGradeIsMinimum)}. ${cited}`;
    if (now && (now.astctGrade !== context.astctGrade || now.ruleId !== context.ruleId)) {
      text += ` The chart now gives ${gradeText(now.astctGrade, now.astctGradeIsMinimum)} (data since the card).`;
    }
  }
  $("card-text").textContent = text;
  $("card").hidden = false;
}

function describeReference(body, ref) {
  for (const [concept, rows] of Object.entries(body.series)) {
    const hit = rows.find((r) => r.reference === ref);
    if (hit) return `${conceptLabel(concept)} ${withUnit(hit.value, CONCEPT[concept]?.unit ?? hit.unit)} at ${when(hit.t)}`;
  }
  const label = body.finding?.evidence.find((e) => e.reference === ref);
  if (label) return `${label.label}${label.effective ? ` at ${when(label.effective)}` : ""}`;
  const v = body.vasopressors.find((x) => x.reference === ref);
  if (v) return `${v.id} from ${when(v.start)}`;
  const t = body.treatments.find((x) => x.reference === ref);
  if (t) return `${t.id} at ${when(t.t)}`;
  return ref;
}

function showEvidence(body, refs) {
  const list = $("evidence-list");
  list.replaceChildren();
  for (const ref of refs) {
    const item = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.ref = ref;
    button.setAttribute("aria-pressed", "false");
    button.textContent = describeReference(body, ref);
    button.addEventListener("click", () => pointOut(ref, button));
    item.append(button);
    list.append(item);
  }
  $("evidence").hidden = refs.length === 0;
}

function pointOut(ref, button) {
  document.querySelectorAll("[data-focused]").forEach((el) => el.removeAttribute("data-focused"));
  document.querySelectorAll("#evidence-list button").forEach((b) => b.setAttribute("aria-pressed", String(b === button)));
  const marks = [...document.querySelectorAll(`#charts [data-ref="${CSS.escape(ref)}"]`)];
  marks.forEach((el) => el.setAttribute("data-focused", "true"));
  marks[0]?.closest("figure")?.scrollIntoView({ block: "nearest" });
  $("evidence-detail").textContent = marks.length
    ? `${button.textContent}: ringed in “${marks[0].closest("figure").getAttribute("aria-label")}”.`
    : `${button.textContent}: not drawn on these charts (it is in the table of values).`;
}

function showUnusable(body) {
  const list = $("unusable-list");
  list.replaceChildren(...body.unusable.map((u) => {
    const li = document.createElement("li");
    li.dataset.ref = u.reference ?? "";
    li.textContent = `${conceptLabel(u.concept)} at ${when(u.t)}: ${u.reason}`;
    return li;
  }));
  $("unusable").hidden = body.unusable.length === 0;
}

function showGaps(failed) {
  $("gaps-list").replaceChildren(...failed.map((name) => Object.assign(document.createElement("li"), {
    textContent: `${name.replace(/([A-Z])/g, " $1").toLowerCase()} could not be read from the FHIR server`,
  })));
  $("gaps").hidden = failed.length === 0;
}

function showTable(body, evidence) {
  const table = $("values");
  const head = table.createTHead().insertRow();
  for (const h of ["time", "value", "", "reference"]) head.append(Object.assign(document.createElement("th"), { textContent: h }));
  const body_ = table.createTBody();
  const steps = body.crs.map((x) => ({ t: x.start, step: x }));
  const neuro = (body.icans || []).map((x) => ({ t: x.start, icans: x }));
  const rows = Object.entries(body.series).flatMap(([c, list]) => list.map((r) => ({ ...r, concept: c })))
    .concat(body.unusable.map((u) => ({ ...u, unusable: true })), steps, neuro)
    .sort((a, b) => (a.t < b.t ? 1 : -1));
  for (const r of rows) {
    const tr = body_.insertRow();
    tr.insertCell().textContent = when(r.t);
    tr.insertCell().textContent = r.step ? `CRS from here: ${r.step.ruleId ? gradeText(r.step.grade, r.step.isMinimum) : "no CRS window"}`
      : r.icans ? `ICANS from here: ${icansText(r.icans)}`
      : r.unusable ? `${conceptLabel(r.concept)}: not usable (${r.reason})`
        : `${conceptLabel(r.concept)} ${withUnit(r.value, CONCEPT[r.concept]?.unit ?? r.unit)}`;
    const flag = tr.insertCell();
    flag.className = "flag";
    flag.textContent = evidence.has(r.reference) ? "card evidence" : "";
    tr.insertCell().textContent = r.reference ?? "";
  }
  $("table-box").hidden = false;
}

function showPatient(resources, patientId) {
  const p = resources.find((r) => r.resourceType === "Patient");
  const name = p?.name?.[0];
  const text = name ? [name.given?.join(" "), name.family].filter(Boolean).join(" ") : `Patient ${patientId}`;
  $("patient").textContent = `${text}${p?.birthDate ? ` · born ${p.birthDate}` : ""}`;
}

async function main() {
  $("zone").textContent = `Times in ${zone} (${zoneName(new Date())})`;
  let client;
  try {
    client = await FHIR.oauth2.ready();
  } catch (e) {
    $("error").textContent = `Not launched: ${e.message || e}. Open the app from the EHR or from launch.html.`;
    $("error").hidden = false;
    $("status").textContent = "";
    return;
  }
  try {
    const config = await (await fetch("../smart/config")).json();
    const { resources, failed } = await readChart(client, config.lookbackDays);
    showPatient(resources, client.patient.id);
    // The EHR may say its own banner already names the patient (SMART `need_patient_banner: false`).
    $("patient").hidden = client.state?.tokenResponse?.need_patient_banner === false;
    $("status").textContent = "Grading the chart with crs-cds…";
    const body = await evaluate(resources, client.patient.id);
    const context = appContext(client);
    const refs = (context?.evidence ?? body.finding?.evidence.map((e) => e.reference) ?? []).filter(Boolean);
    const evidence = new Set(refs);
    if (!context) $("evidence-title").textContent = "Evidence of the current finding";
    showNow(body);
    showCard(context, body);
    showEvidence(body, [...evidence]);
    legend();
    showSpans(body, context, evidence);
    showUnusable(body);
    showGaps(failed);
    showTable(body, evidence);
    let pending = 0;
    new ResizeObserver(() => {
      cancelAnimationFrame(pending);
      pending = requestAnimationFrame(() => {
        if (String(Math.max(320, Math.min($("charts").clientWidth, 1400))) !== $("charts").dataset.width) drawCharts(body, evidence);
      });
    }).observe($("charts"));
    $("status").textContent = `Read ${resources.length} resources; timeline from ${when(body.start)} to ${when(body.now)}.`;
    Object.assign(document.body.dataset, { start: body.start, now: body.now, ready: "true" });
  } catch (e) {
    $("error").textContent = `The timeline could not be drawn: ${e.message || e}`;
    $("error").hidden = false;
    $("status").textContent = "";
    document.body.dataset.ready = "error";
  }
}

main();
