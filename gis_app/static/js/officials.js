// Charts of the officials' targets page (Chart.js, served by the app).
(function () {
  "use strict";
  var holder = document.getElementById("targets-data");
  var canvas = document.getElementById("targets-chart");
  if (!holder || !canvas || typeof Chart === "undefined") { return; }
  var rows = JSON.parse(holder.textContent);
  var lang = document.documentElement.lang || "vi";
  // Axis ticks and tooltips the page's way (83,3 in Vietnamese, 83.3 in English).
  var locale = lang === "vi" ? "vi-VN" : "en-GB";
  var pctFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  function pctText(v) { return v === null || v === undefined ? "–" : pctFormat.format(v) + " %"; }
  function pctLabel(item) { return item.dataset.label + ": " + pctText(item.parsed.y); }
  var labels = rows.map(function (r) { return r.code; });
  var figure = lang === "vi" ? "Toàn huyện" : "District";
  var target = lang === "vi" ? "Mục tiêu" : "Target";
  window.targetsChart = new Chart(canvas, {
    type: "bar",
    data: {
      labels: labels,
      datasets: [
        { label: figure, data: rows.map(function (r) { return r.district; }),
          backgroundColor: rows.map(function (r) {
            return r.district === null ? "#9e9e9e" : (r.district >= r.target ? "#2e7d32" : "#c62828");
          }) },
        { label: target, type: "line", data: rows.map(function (r) { return r.target; }),
          borderColor: "#000", borderDash: [6, 3], pointRadius: 4, showLine: false,
          pointStyle: "line", pointBorderWidth: 3 }
      ]
    },
    options: {
      animation: false, responsive: true, maintainAspectRatio: false, locale: locale,
      scales: { y: { min: 0, max: 100, ticks: { callback: pctText } } },
      plugins: { tooltip: { callbacks: { label: pctLabel, title: function (items) {
        return rows[items[0].dataIndex].code + " – " + rows[items[0].dataIndex].title; } } } }
    }
  });

  // Communes x indicators, one colour per commune (names as they were that year).
  var byCommune = document.getElementById("communes-chart");
  var names = [];
  rows.forEach(function (r) {
    r.communes.forEach(function (c) { if (names.indexOf(c.name) < 0) { names.push(c.name); } });
  });
  var palette = ["#1b5e20", "#0d47a1", "#b71c1c", "#e65100", "#4a148c", "#006064", "#827717",
                 "#3e2723", "#263238", "#880e4f"];
  if (byCommune && names.length) {
    window.communesChart = new Chart(byCommune, {
      type: "bar",
      data: {
        labels: labels,
        datasets: names.map(function (name, i) {
          return { label: name, backgroundColor: palette[i % palette.length],
                   data: rows.map(function (r) {
                     var c = r.communes.filter(function (x) { return x.name === name; })[0];
                     return c ? c.pct : null; }) };
        })
      },
      options: { animation: false, responsive: true, maintainAspectRatio: false, locale: locale,
                 scales: { y: { min: 0, max: 100, ticks: { callback: pctText } } },
                 plugins: { tooltip: { callbacks: { label: pctLabel } } } }
    });
  }
})();
