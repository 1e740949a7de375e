// Revenue charts: each <canvas data-chart-table="ID"> is drawn by Chart.js from the
// accessible table with that id, which stays on the page (it is the no-JS view and
// what screen readers read). Rows are months (<th scope="row">), the columns named
// in data-chart-columns are the series; each cell's data-value is its number. A row
// with data-empty-months="2026-03 2026-04" stands for months with nothing: each is
// drawn as a zero bar, so the time axis keeps every month. Once drawn, the table's
// <details> is closed (chart first); without JavaScript it stays open.
(function () {
  "use strict";

  var PALETTE = ["#1f5fa8", "#c2410c", "#15803d", "#7c3aed", "#b91c1c", "#0e7490"];

  function readTable(table, columns) {
    var headers = table.querySelectorAll("thead th");
    var rows = table.querySelectorAll("tbody tr");
    var labels = [];
    var values = columns.map(function () { return []; });
    rows.forEach(function (row) {
      var empty = row.getAttribute("data-empty-months");
      if (empty) {
        empty.split(" ").forEach(function (month) {
          labels.push(month);
          values.forEach(function (series) { series.push(0); });
        });
        return;
      }
      labels.push(row.querySelector("th").textContent.trim());
      columns.forEach(function (column, index) {
        // Cells after the row header: column 1 is the first <td>.
        var cell = row.children[column];
        values[index].push(cell ? Number(cell.getAttribute("data-value")) : 0);
      });
    });
    var datasets = columns.map(function (column, index) {
      return {
        label: headers[column].textContent.trim(),
        backgroundColor: PALETTE[index % PALETTE.length],
        data: values[index]
      };
    });
    return { labels: labels, datasets: datasets };
  }

  function draw(canvas) {
    var table = document.getElementById(canvas.getAttribute("data-chart-table"));
    if (!table) { return; }
    var columns = canvas.getAttribute("data-chart-columns").split(",").map(Number);
    var stacked = canvas.getAttribute("data-chart-stacked") === "true";
    // Counts (installs, units) get whole-number ticks: no "0.5 installs".
    // https://www.chartjs.org/docs/latest/axes/cartesian/linear.html#linear-axis-specific-tick-options
    var integer = canvas.getAttribute("data-chart-integer") === "true";
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
          y: { stacked: stacked, beginAtZero: true, ticks: integer ? { precision: 0 } : {} }
        }
      }
    });
    var figures = table.closest("details.chart-figures");
    if (figures) { figures.open = false; }
  }

  document.addEventListener("DOMContentLoaded", function () {
    if (!window.Chart) { return; }  // the tables alone still tell everything
    document.querySelectorAll("canvas[data-chart-table]").forEach(draw);
  });
})();
