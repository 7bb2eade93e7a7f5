// The report page's chart: the figures come from the page itself (a JSON block the server
// wrote), drawn with the ECharts HQ serves. No inline script: the page's CSP forbids it.
(function () {
  "use strict";
  var box = document.getElementById("chart");
  var source = document.getElementById("chart-data");
  if (!box || !source || typeof echarts === "undefined") return;
  var data = JSON.parse(source.textContent);
  var chart = echarts.init(box, null, { renderer: "svg" });
  chart.setOption({
    title: { text: box.getAttribute("data-title") || "", left: "center", textStyle: { fontSize: 14 } },
    tooltip: { trigger: "axis" },
    grid: { left: 48, right: 24, top: 40, bottom: 40 },
    xAxis: { type: "category", data: data.labels },
    yAxis: { type: "value" },
    series: [{ name: data.series, type: data.kind, data: data.values, smooth: data.kind === "line" }],
    animation: false
  });
  box.setAttribute("data-drawn", "1");
  window.addEventListener("resize", function () { chart.resize(); });
})();
