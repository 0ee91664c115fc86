/*
 * The officials' condition pages (templates/conditions/).
 *
 * Comparison page: draws the overall condition of each chosen site by year with Chart.js
 * (global Chart, vendored) from <script type="application/json" id="conditions-chart-data">
 * ({years, levels, axis, series: [{label, ranks}]}; rank 1 = good .. 5 = ruined, null =
 * no assessment that year). The y axis runs from good (top) to ruined (bottom) with the
 * condition labels; each site also gets its own point style so the lines differ by more
 * than colour. Once drawn the canvas gets data-rendered="<number of sites>".
 *
 * Map page: fetches the sites as GeoJSON from the URL in #conditions-map-config and draws
 * them on the map HeritageMap.init (heritage-map.js) made: coloured by latest condition,
 * or with `since` by the change since that year, each marker also carrying the level
 * number or arrow as its tooltip text so colour is never the only cue. The map container
 * then gets data-conditions="<count>". Text reaches the page only through textContent.
 */
(function () {
  "use strict";

  var CONDITION_COLOURS = { good: "#1a7f37", fair: "#7a9a01", poor: "#d4a106",
                            very_poor: "#d45d06", ruined: "#a01010" };
  var CHANGE_COLOURS = { better: "#1a7f37", same: "#6b6b6b", worse: "#a01010",
                         no_data: "#b8b8b8" };
  var RANKS = { good: 1, fair: 2, poor: 3, very_poor: 4, ruined: 5 };
  var SERIES_COLOURS = ["#1a5fb4", "#c01c28", "#26a269", "#a347ba", "#e66100", "#5e5c64",
                        "#0d7377", "#865e3c", "#1c71d8", "#9141ac", "#2ec27e", "#f5c211"];
  var POINT_STYLES = ["circle", "rect", "triangle", "rectRot", "star", "crossRot"];

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function readJson(id) {
    var tag = document.getElementById(id);
    return tag ? JSON.parse(tag.textContent) : null;
  }

  function drawChart() {
    var data = readJson("conditions-chart-data");
    var canvas = document.getElementById("conditions-chart");
    if (!data || !canvas || !window.Chart) return;
    var datasets = data.series.map(function (series, i) {
      var colour = SERIES_COLOURS[i % SERIES_COLOURS.length];
      return { label: series.label, data: series.ranks, borderColor: colour,
               backgroundColor: colour, pointStyle: POINT_STYLES[i % POINT_STYLES.length],
               pointRadius: 6, borderWidth: 2, spanGaps: true, tension: 0 };
    });
    new window.Chart(canvas, {
      type: "line",
      data: { labels: data.years.map(String), datasets: datasets },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        scales: {
          y: { reverse: true, min: 1, max: 5, title: { display: true, text: data.axis },
               ticks: { stepSize: 1, callback: function (v) { return data.levels[v - 1] || ""; } } }
        },
        plugins: {
          legend: { labels: { usePointStyle: true } },
          tooltip: { callbacks: { label: function (ctx) {
            return ctx.dataset.label + ": " + (data.levels[ctx.parsed.y - 1] || "");
          } } }
        }
      }
    });
    canvas.setAttribute("data-rendered", String(datasets.length));
  }

  function popup(props, config) {
    var root = el("div", "hm-popup");
    root.appendChild(el("strong", "hm-popup-title", props.name_vi));
    var dl = el("dl", "hm-popup-fields");
    function row(label, value) {
      dl.appendChild(el("dt", null, label));
      dl.appendChild(el("dd", null, value));
    }
    row(config.assessed_on, props.assessed_on ? props.assessed_on.split("-").reverse().join("/") : "–");
    row("", props.overall ? (RANKS[props.overall] + " · " + config.conditions[props.overall])
                          : config.not_assessed);
    if (config.since) {
      var change = config.changes[props.change] || config.changes.no_data;
      row(String(config.since), props.before ? config.conditions[props.before] : "–");
      row("", change[0] + " " + change[1]);
    }
    root.appendChild(dl);
    var link = el("a", null, config.history);
    link.href = config.site_url.replace(/\/0$/, "/" + props.site_id);
    root.appendChild(link);
    return root;
  }

  function marker(feature, latlng, config) {
    var p = feature.properties || {};
    var colour, text;
    if (config.since) {
      colour = CHANGE_COLOURS[p.change] || CHANGE_COLOURS.no_data;
      text = (config.changes[p.change] || config.changes.no_data)[0];
    } else {
      colour = p.overall ? CONDITION_COLOURS[p.overall] : "#b8b8b8";
      text = p.overall ? String(RANKS[p.overall]) : "–";
    }
    var layer = L.circleMarker(latlng, { radius: 9, color: "#222", weight: 1,
                                         fillColor: colour, fillOpacity: 0.9,
                                         className: "cond-marker" });
    layer.bindTooltip(function () { return el("span", "cond-marker-text", text + " " + p.name_vi); });
    layer.bindPopup(function () { return popup(p, config); }, { maxWidth: 300 });
    return layer;
  }

  function drawMap() {
    var config = readJson("conditions-map-config");
    if (!config) return;
    var map = window.HeritageMap && window.HeritageMap.map;
    if (!map) throw new Error("conditions: the map is not ready");
    fetch(config.url, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("conditions: map data " + response.status);
        return response.json();
      })
      .then(function (collection) {
        var layer = L.geoJSON(collection, {
          pointToLayer: function (feature, latlng) { return marker(feature, latlng, config); }
        }).addTo(map);
        var bounds = layer.getBounds();
        if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 15, animate: false });
        map.getContainer().setAttribute("data-conditions",
                                        String((collection.features || []).length));
      });
  }

  function start() {
    drawChart();
    drawMap();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
