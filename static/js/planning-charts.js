// 統計專區: draw the bar chart from the json_script data; the table below carries the same numbers.
document.addEventListener("DOMContentLoaded", function () {
  var canvas = document.getElementById("needs-chart");
  var source = document.getElementById("needs-chart-data");
  if (!canvas || !source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  new Chart(canvas, {
    type: "bar",
    data: {
      labels: data.labels,
      datasets: [{ label: data.title, data: data.values, backgroundColor: "#1d5fa7" }],
    },
    options: { responsive: true, animation: false, plugins: { legend: { display: false } } },
  });
});
