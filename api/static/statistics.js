// The statistics page: charts drawn with the vendored Apache ECharts from the
// statistics embedded in the page (the same body as GET /v1/statistics).
// Plain JS, no build step, no network.
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("stats-data").textContent);
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
      xAxis: { type: "category", data: labels, axisLabel: { rotate: 40 } },
      yAxis: { type: "value" },
      series: series.map(function (s) {
        return { name: s.name, type: "bar", stack: s.stack, data: s.data };
      }),
    };
  }

  // records by kind.action, stacked by severity
  const kinds = [...new Set(data.records.map((r) => r.kind + "." + r.action))];
  const severities = [...new Set(data.records.map((r) => r.severity || "—"))];
  chart("chart-records", bars(kinds, severities.map(function (sev) {
    return {
      name: sev, stack: "s",
      data: kinds.map((k) => data.records
        .filter((r) => r.kind + "." + r.action === k && (r.severity || "—") === sev)
        .reduce((n, r) => n + r.count, 0)),
    };
  })));
  chart("chart-regions", {
    legend: {},
    series: [
      { name: "region", type: "pie", radius: ["20%", "45%"], center: ["25%", "55%"],
        data: data.by_region.map((r) => ({ name: r.region, value: r.count })) },
      { name: "sector", type: "pie", radius: ["20%", "45%"], center: ["75%", "55%"],
        data: data.by_sector.map((r) => ({ name: r.sector, value: r.count })) },
    ],
  });
  const pubs = data.publications.by_kind;
  chart("chart-publications", bars(pubs.map((p) => p.kind), [
    { name: "按期 on time", stack: "p", data: pubs.map((p) => p.on_time) },
    { name: "逾期 late", stack: "p", data: pubs.map((p) => p.late) },
    { name: "无法判断 unknown", stack: "p", data: pubs.map((p) => p.unknown) },
  ]));
  const flows = []
    .concat(data.lists.entries.map((e) => ["列入 entry " + e.list, e.count]))
    .concat(data.lists.exits.map((e) => ["移出 exit " + e.list + " (" + e.reason + ")", e.count]))
    .concat(data.repairs.map((r) => ["修复 repair " + r.action, r.count]))
    .concat(data.objections.resolved.map((o) => ["异议 objection " + o.outcome, o.count]));
  chart("chart-workflows", bars(flows.map((f) => f[0]), [{ name: "count", data: flows.map((f) => f[1]) }]));
  chart("chart-grades", {
    legend: {},
    series: [
      { name: "standing", type: "pie", radius: "45%", center: ["25%", "55%"],
        data: data.grades.standing.map((g) => ({ name: g.grade, value: g.count })) },
      { name: "evaluations", type: "pie", radius: "45%", center: ["75%", "55%"],
        data: data.grades.evaluations.map((g) => ({ name: g.grade, value: g.count })) },
    ],
  });
  document.body.dataset.charts = String(drawn.length);
  window.addEventListener("resize", () => drawn.forEach((c) => c.resize()));
})();
