// The auditor's timeline: a date slider (with a year axis, the subject's records as
// coloured ticks, and buttons to the previous / next record) that reloads standing,
// disclosure and history as of the chosen day through the v1 API (the login cookie
// authenticates these GETs); timeline_chart.js marks the moment on the chart.
// Codes are shown by their labels (the page embeds them). Plain JS, no build step.
(function () {
  "use strict";
  const root = document.getElementById("timeline");
  if (!root) return;
  const code = root.dataset.code;
  const start = new Date(root.dataset.start + "T00:00:00Z");
  const days = Number(root.dataset.days);
  const slider = document.getElementById("moment");
  const label = document.getElementById("moment-label");
  const knownThen = document.getElementById("known-then");
  const status = document.getElementById("status");
  const LABELS = JSON.parse(document.getElementById("labels-data").textContent);
  const MARKED = {
    "credit.record.corrected": ["mark-correction", "更正 correction"],
    "credit.record.revoked": ["mark-correction", "撤销 revocation"],
    "credit.objection.filed": ["mark-objection", "异议 objection"],
    "credit.objection.resolved": ["mark-objection", "异议处理 objection resolved"],
    "credit.repair.approved": ["mark-repair", "修复 repair approved"],
    "credit.repair.revoked": ["mark-repair", "修复撤销 repair revoked"],
  };
  const KINDS = {
    penalty: "行政处罚 penalty", violation: "失信行为 violation", list: "名单 list",
    ban: "禁入 ban", measure: "惩戒措施 measure", person: "责任人 person",
    registration: "守信信息 registration", "withdrawal-notice": "撤回说明 withdrawal notice",
  };

  function dayOf(offset) {
    const d = new Date(start.getTime() + offset * 86400000);
    return d.toISOString().slice(0, 10);
  }
  function offsetOf(day) {
    return Math.round((new Date(day + "T00:00:00Z") - start) / 86400000);
  }
  function typeLabel(type) { return LABELS.type[type] || type; }
  function agencyLabel(source) { return LABELS.agency[source] || source; }
  function listLabel(code) { return LABELS.list[code] || code; }
  // A record id written "<agency kind>-<region>-<rest>" (and the ids derived from such
  // ids) shows the agency's name instead of its kind and region; the id of a record
  // the ledger made itself ("spot-check-2025/<subject>", "expiry-<designation>") its
  // label (双随机抽查 2025, 到期移出 …) instead of its prefix. The id stays in the title.
  const SYSTEM = new RegExp("\\b(" + Object.keys(LABELS.system || {}).join("|") + ")-([^\\s/]*)(/\\S*)?", "g");
  function shortId(id) {
    let text = String(id == null ? "" : id);
    if (LABELS.system && Object.keys(LABELS.system).length) {
      text = text.replace(SYSTEM, (whole, kind, rest, subject) =>
        LABELS.system[kind] + " " + (kind === "spot-check" ? rest : rest + (subject || "")));
    }
    return text.replace(/([a-z]+(?:-[a-z]+)*)-(\d{6})-/g,
      (whole, kind, region) => { const name = LABELS.agency[kind + "/" + region]; return name ? name + " " : whole; });
  }
  function idCode(id) { return `<code title="${esc(id)}">${esc(shortId(id))}</code>`; }
  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, (c) => (
      { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c]));
  }
  // Place the event ticks and the years under the slider.
  for (const mark of root.querySelectorAll(".ticks .tick, .years .year")) {
    const pct = days > 0 ? (100 * offsetOf(mark.dataset.day)) / days : 0;
    mark.style.left = Math.max(0, Math.min(100, pct)) + "%";
  }
  const eventOffsets = [...new Set([...root.querySelectorAll(".ticks .tick")]
    .map((t) => offsetOf(t.dataset.day)))].sort((a, b) => a - b);

  async function get(what, day) {
    const params = new URLSearchParams({ as_of: day });
    if (knownThen.checked) params.set("known_at", day);
    const response = await fetch(`/v1/subjects/${code}/${what}?${params}`, {
      credentials: "same-origin", headers: { Accept: "application/json" },
    });
    const body = await response.json();
    if (response.status === 404 && body.code === "unknown-subject") return null;  // nothing recorded yet
    if (!response.ok) throw new Error(`${what}: ${body.code || response.status}: ${body.detail || ""}`);
    return body;
  }

  function renderStanding(s) {
    const lists = (s.lists || []).map(listLabel).join("、") || "—";
    const measures = (s.measures || []).length;
    const rows = (s.explanation || []).filter((c) => c.points).map((c) =>
      `<li>${esc(c.points > 0 ? "+" + c.points : c.points)} · ${esc(c.reason_zh || c.reason)} ${idCode(c.event_id)}</li>`).join("");
    return `<div class="grade grade-${esc(s.grade)}"><b>${esc(s.grade)}</b><span>${esc(s.score)} 分 points</span></div>
      <dl class="facts"><dt>名单 Lists</dt><dd>${esc(lists)}</dd>
      <dt>惩戒措施 Measures</dt><dd>${measures}</dd>
      <dt>异议中止 Suspended</dt><dd>${(s.suspended || []).map(idCode).join("、") || "—"}</dd>
      <dt>记录数 Records</dt><dd>${esc(s.records)}</dd></dl>
      <ul class="explain">${rows || "<li>无扣分 no deductions</li>"}</ul>`;
  }

  const ENDED = {
    repaired: "已修复 repaired", expired: "已到期 expired", withdrawn: "已撤回 withdrawn",
    revoked: "已撤销 revoked", removed: "已移出 removed", lifted: "已解除 lifted",
  };

  function renderDisclosure(d) {
    const items = d.items || [];
    if (!items.length) return '<p class="empty">无可公示记录 · nothing to disclose</p>';
    return `<table class="records"><thead><tr><th>记录 Record</th><th>状态 Status</th><th>期间 Period</th></tr></thead><tbody>${
      items.map((i) => `<tr class="ditem ${i.published ? "public" : "hidden"}" data-event-id="${esc(i.event_id)}" data-published="${i.published}">
        <td data-label="记录">${esc(KINDS[i.kind] || i.kind)}<br>${idCode(i.event_id)}</td>
        <td data-label="状态"><b>${i.published ? "公示中 public" : "未公示 not public"}</b>${
          i.publication_ended ? ` <span class="ended" data-why="${esc(i.publication_ended.why)}">停止公示 ${esc(ENDED[i.publication_ended.why] || i.publication_ended.why)} ${esc(i.publication_ended.on || "")}</span>` : ""}${
          i.corrected ? ` <span class="corrected">${esc(i.corrected.mark)} ${esc(i.corrected.on || "")}</span>` : ""}<div class="reason">${esc(i.reason_zh || i.reason)}</div></td>
        <td data-label="期间">${esc(i.from || "")} 至 ${esc(i.until || "长期")}</td></tr>`).join("")}</tbody></table>`;
  }

  function renderHistory(h) {
    const events = h.events || [];
    if (!events.length) return '<p class="empty">此时无记录 · no records at this moment</p>';
    return `<ol class="history">${events.map((e) => {
      const mark = MARKED[e.type];
      const links = (e.links || []).map((l) => {
        const changed = l.changed ? " (" + Object.entries(l.changed).map(([k, v]) => `${esc(k)}: ${esc(JSON.stringify(v[0]))} → ${esc(JSON.stringify(v[1]))}`).join(", ") + ")" : "";
        const outcome = l.outcome ? ` [${esc((LABELS.outcome || {})[l.outcome] || l.outcome)}]` : "";
        return `${esc((LABELS.relation || {})[l.relation] || l.relation)} #${esc(l.seq)} ${idCode(l.event_id)}${changed}${outcome}`;
      }).join("; ");
      return `<li class="hentry ${mark ? mark[0] : ""}" data-event-id="${esc(e.id)}" data-type="${esc(e.type)}">
        <span class="seq">#${esc(e.seq)}</span>
        <span class="when">生效 valid ${esc((e.time || "").slice(0, 10))} · 记录 recorded ${esc((e.recorded_at || "").slice(0, 16).replace("T", " "))}</span>
        ${mark ? `<span class="badge">${esc(mark[1])}</span>` : ""}
        <div><b title="${esc(e.type)}">${esc(typeLabel(e.type))}</b> · ${esc(agencyLabel(e.source))} · ${idCode(e.id)}</div>
        ${e.document || e.basis ? `<div class="basis">${esc(e.document || "")} ${esc(e.basis || "")}</div>` : ""}
        ${links ? `<div class="links">${links}</div>` : ""}
        ${e.authority === "unverified" ? `<div class="unverified" title="${esc((e.authority_reason || {}).message || "")}">未核验授权 authority: unverified</div>` : ""}</li>`;
    }).join("")}</ol>`;
  }

  let pending = 0;
  async function reload() {
    const day = dayOf(Number(slider.value));
    label.textContent = day;
    slider.setAttribute("aria-valuetext", day);
    if (window.timelineChart) window.timelineChart.mark(day);
    const ticket = ++pending;
    status.textContent = "加载中 loading…";
    root.dataset.loaded = "";
    try {
      const [s, d, h] = await Promise.all([get("standing", day), get("disclosure", day), get("history", day)]);
      if (ticket !== pending) return;
      const none = '<p class="empty">此时尚无记录 · nothing recorded yet at this moment</p>';
      document.querySelector("#standing .body").innerHTML = s ? renderStanding(s) : none;
      document.querySelector("#disclosure .body").innerHTML = d ? renderDisclosure(d) : none;
      document.querySelector("#history .body").innerHTML = h ? renderHistory(h) : none;
      status.textContent = `截至 as of ${day}`;
      root.dataset.loaded = day;
    } catch (err) {
      if (ticket !== pending) return;
      status.textContent = String(err.message || err);
      root.dataset.loaded = "error";
    }
  }
  slider.addEventListener("input", () => { label.textContent = dayOf(Number(slider.value)); });
  slider.addEventListener("change", reload);
  function moveTo(offset) {
    slider.value = String(Math.max(0, Math.min(days, offset)));
    reload();
  }
  // The previous / next record's day: from the slider's moment, the nearest tick.
  document.getElementById("prev-event").addEventListener("click", () => {
    const here = Number(slider.value);
    const before = eventOffsets.filter((o) => o < here);
    if (before.length) moveTo(before[before.length - 1]);
  });
  document.getElementById("next-event").addEventListener("click", () => {
    const here = Number(slider.value);
    const after = eventOffsets.find((o) => o > here);
    if (after !== undefined) moveTo(after);
  });
  document.addEventListener("timeline:moment", (e) => moveTo(offsetOf(e.detail)));
  knownThen.addEventListener("change", reload);
  reload();
})();
