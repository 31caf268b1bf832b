// 統計圖表: draws each chart from the JSON the page carries (json_script), with Chart.js served
// from our own static files. The table under each chart holds the same numbers; without
// JavaScript the tables are the page.
(function () {
  "use strict";
  function draw() {
    if (typeof Chart === "undefined") { return; }
    var source = document.getElementById("chart-data");
    if (!source) { return; }
    var data = JSON.parse(source.textContent);
    document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      var figure = data[canvas.getAttribute("data-chart")];
      if (!figure) { return; }
      canvas.hidden = false;
      new Chart(canvas, {
        type: "bar",
        data: {
          labels: figure.labels,
          datasets: [{ label: figure.unit, data: figure.values, backgroundColor: "#1f5f8b" }]
        },
        options: {
          responsive: true,
          animation: false,
          plugins: { legend: { display: false }, title: { display: false } },
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } }
        }
      });
    });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
