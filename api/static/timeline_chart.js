// The auditor's timeline as a picture: the subject's score over time (a step line,
// its grade written where it changes) above its list, ban and disclosure periods
// (bars), on one date axis, drawn by the vendored ECharts from the data the page
// embeds (api/timeline_picture.py). A line marks the slider's moment; a click on
// the chart moves the moment there. Plain JS, no build step, no network.
(function () {
  "use strict";
  const el = document.getElementById("course-chart");
  const source = document.getElementById("picture-data");
  if (!el || !source || typeof echarts === "undefined") return;
  const data = JSON.parse(source.textContent);
  const COLOURS = { lists: "#7f1d1d", bans: "#b45309", disclosure: "#0b4ea2" };
  const rows = data.rows.map((r) => r.name);
  const bars = [];
  data.rows.forEach((r, i) => r.bars.forEach((b) => bars.push({
    value: [i, b[0], b[1], b[2]], itemStyle: { color: COLOURS[r.id] || "#6b7785" },
  })));
  const changes = data.course.filter((p, i, all) => i === 0 || all[i - 1][2] !== p[2]);
  const narrow = el.clientWidth < 500;

  function period(params, api) {
    const row = api.value(0);
    const from = api.coord([api.value(1), row]);
    const to = api.coord([api.value(2), row]);
    const height = api.size([0, 1])[1] * 0.6;
    const box = params.coordSys;
    const shape = echarts.graphic.clipRectByRect(
      { x: from[0], y: from[1] - height / 2, width: Math.max(to[0] - from[0], 2), height: height },
      { x: box.x, y: box.y, width: box.width, height: box.height });
    return shape && { type: "rect", shape: shape, style: api.style({ opacity: 0.7 }) };
  }

  const axis = (grid) => ({
    type: "time", gridIndex: grid, min: data.start, max: data.end,
    axisLabel: { formatter: { year: "{yyyy}年", month: narrow ? "" : "{M}月", day: "" }, hideOverlap: true },
    splitNumber: narrow ? 3 : 8,
  });
  const chart = echarts.init(el, null, { renderer: "svg" });
  chart.setOption({
    animation: false,
    tooltip: { trigger: "item", confine: true },
    grid: [
      { left: 44, right: 14, top: 28, height: "46%" },
      { left: narrow ? 76 : 96, right: 14, top: "64%", bottom: 26 },
    ],
    xAxis: [axis(0), axis(1)],
    yAxis: [
      { type: "value", gridIndex: 0, name: "信用分", scale: true },
      { type: "category", gridIndex: 1, data: rows, inverse: true },
    ],
    series: [
      {
        id: "score", name: "信用分", type: "line", step: "end", xAxisIndex: 0, yAxisIndex: 0,
        symbolSize: 4, data: data.course.map((p) => [p[0], p[1], p[2]]),
        tooltip: { formatter: (p) => `${p.value[0]}<br>信用分 ${p.value[1]} · 等级 ${p.value[2]}` },
        markLine: { symbol: "none", silent: true, data: [] },
      },
      {
        name: "等级", type: "scatter", xAxisIndex: 0, yAxisIndex: 0, symbolSize: 9,
        itemStyle: { color: "#c8161d" },
        data: changes.map((p) => ({ value: [p[0], p[1], p[2]], label: { show: true, position: "top", formatter: p[2] } })),
        tooltip: { formatter: (p) => `${p.value[0]} 起 等级 ${p.value[2]}（${p.value[1]} 分）` },
      },
      {
        name: "期间", type: "custom", xAxisIndex: 1, yAxisIndex: 1, renderItem: period,
        encode: { x: [1, 2], y: 0 }, data: bars,
        tooltip: { formatter: (p) => `${rows[p.value[0]]}：${p.value[3]}<br>${p.value[1]} 至 ${p.value[2]}` },
      },
    ],
  });
  el.dataset.drawn = "true";
  el.dataset.bars = String(bars.length);
  el.dataset.points = String(data.course.length);

  function pad(n) { return String(n).padStart(2, "0"); }
  chart.getZr().on("click", (event) => {
    const at = [event.offsetX, event.offsetY];
    if (!chart.containPixel({ gridIndex: [0, 1] }, at)) return;
    const when = new Date(chart.convertFromPixel({ xAxisIndex: 0 }, at[0]));
    const day = `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`;
    document.dispatchEvent(new CustomEvent("timeline:moment", { detail: day }));
  });
  window.addEventListener("resize", () => chart.resize());
  window.timelineChart = {
    mark(day) {
      chart.setOption({ series: [{ id: "score", markLine: { symbol: "none", silent: true,
        lineStyle: { color: "#1f2933", type: "dashed" }, label: { formatter: day },
        data: [{ xAxis: day }] } }] });
      el.dataset.moment = day;
    },
  };
})();
