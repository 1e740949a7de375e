// Revenue charts: each <canvas data-chart-table="ID"> is drawn by Chart.js from the
// accessible table with that id, which stays on the page (it is the no-JS view and
// what screen readers read). Rows are months (<th scope="row">), the columns named
// in data-chart-columns are the series; each cell's data-value is its number.
(function () {
  "use strict";

  var PALETTE = ["#1f5fa8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490"];

  function readTable(table, columns) {
    var headers = table.querySelectorAll("thead th");
    var rows = table.querySelectorAll("tbody tr");
    var labels = [];
    rows.forEach(function (row) {
      labels.push(row.querySelector("th").textContent.trim());
    });
    var datasets = columns.map(function (column, index) {
      return {
        label: headers[column].textContent.trim(),
        backgroundColor: PALETTE[index % PALETTE.length],
        data: Array.prototype.map.call(rows, function (row) {
          // Cells after the row header: column 1 is the first <td>.
          var cell = row.children[column];
          return cell ? Number(cell.getAttribute("data-value")) : 0;
        })
      };
    });
    return { labels: labels, datasets: datasets };
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-chart-table"));
    if (!table) { return; }
    var columns = canvas.getAttribute("data-chart-columns").split(",").map(Number);
    var stacked = canvas.getAttribute("data-chart-stacked") === "true";
    // Show the chart's box first: Chart.js sizes the canvas to it.
    canvas.parentNode.classList.add("is-drawn");
    new window.Chart(canvas, {
      type: "bar",
      data: readTable(table, columns),
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        scales: {
          x: { stacked: stacked },
          y: { stacked: stacked, beginAtZero: true }
        }
      }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) { return; }  // the tables alone still tell everything
    document.querySelectorAll("canvas[data-chart-table]").forEach(draw);
  });
})();
