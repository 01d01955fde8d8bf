// The statistics page: charts drawn with the vendored Apache ECharts from the
// statistics embedded in the page (the same body as GET /v1/statistics).
// Plain JS, no build step, no network.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("stats-data").textContent);
  const LABELS = JSON.parse(document.getElementById("stats-labels").textContent);
  // A code's label (the page embeds them); the code itself when it has none.
  const L = (kind, code) => (LABELS[kind] || {})[code] || code;
  const OUTCOMES = { upheld: "异议成立", rejected: "异议不成立", withdrawn: "撤回" };
  const EXITS = { expired: "期满", repaired: "信用修复", removed: "决定移出", revoked: "撤销", corrected: "更正" };
  const REPAIRS = { requested: "申请", approved: "通过", rejected: "驳回", revoked: "撤销" };
  const drawn = [];

  function chart(id, option) {
    const el = document.getElementById(id);
    if (!el || typeof echarts === "undefined") return;
    const c = echarts.init(el, null, { renderer: "svg" });
    c.setOption(Object.assign({ animation: false, tooltip: {} }, option));
    drawn.push(c);
    el.dataset.drawn = "true";
  }

  function bars(labels, series) {
    return {
      legend: {},
      grid: { left: 60, right: 20, bottom: 80 },
      xAxis: { type: "category", data: labels, axisLabel: { rotate: 40, width: 90, overflow: "truncate" } },
      yAxis: { type: "value" },
      series: series.map(function (s) {
        return { name: s.name, type: "bar", stack: s.stack, data: s.data };
      }),
    };
  }

  // records by kind.action, stacked by severity
  const kinds = [...new Set(data.records.map((r) => r.kind + "." + r.action))];
  const severities = [...new Set(data.records.map((r) => r.severity || "—"))];
  chart("chart-records", bars(kinds.map((k) => L("action", k)), severities.map(function (sev) {
    return {
      name: L("severity", sev), stack: "s",
      data: kinds.map((k) => data.records
        .filter((r) => r.kind + "." + r.action === k && (r.severity || "—") === sev)
        .reduce((n, r) => n + r.count, 0)),
    };
  })));
  chart("chart-regions", {
    legend: {},
    series: [
      { name: "地区", type: "pie", radius: ["20%", "45%"], center: ["25%", "55%"],
        data: data.by_region.map((r) => ({ name: L("region", r.region), value: r.count })) },
      { name: "行业", type: "pie", radius: ["20%", "45%"], center: ["75%", "55%"],
        data: data.by_sector.map((r) => ({ name: L("sector", r.sector), value: r.count })) },
    ],
  });
  const pubs = data.publications.by_kind;
  chart("chart-publications", bars(pubs.map((p) => L("kind", p.kind)), [
    { name: "按期 on time", stack: "p", data: pubs.map((p) => p.on_time) },
    { name: "逾期 late", stack: "p", data: pubs.map((p) => p.late) },
    { name: "无法判断 unknown", stack: "p", data: pubs.map((p) => p.unknown) },
  ]));
  const flows = []
    .concat(data.lists.entries.map((e) => ["列入" + L("list", e.list), e.count]))
    .concat(data.lists.exits.map((e) => ["移出" + L("list", e.list) + "（" + (EXITS[e.reason] || e.reason) + "）", e.count]))
    .concat(data.repairs.map((r) => ["信用修复" + (REPAIRS[r.action] || r.action), r.count]))
    .concat(data.objections.resolved.map((o) => [OUTCOMES[o.outcome] || o.outcome, o.count]));
  chart("chart-workflows", bars(flows.map((f) => f[0]), [{ name: "数量", data: flows.map((f) => f[1]) }]));
  chart("chart-grades", {
    legend: {},
    series: [
      { name: "信用等级", type: "pie", radius: "45%", center: ["25%", "55%"],
        data: data.grades.standing.map((g) => ({ name: g.grade, value: g.count })) },
      { name: "综合评价", type: "pie", radius: "45%", center: ["75%", "55%"],
        data: data.grades.evaluations.map((g) => ({ name: g.grade, value: g.count })) },
    ],
  });
  document.body.dataset.charts = String(drawn.length);
  window.addEventListener("resize", () => drawn.forEach((c) => c.resize()));
})();
