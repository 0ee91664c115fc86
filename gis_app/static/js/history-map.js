/*
 * A relic's history page (templates/history/relic.html): draws one geometry change on the
 * map HeritageMap.init made (before: grey, dashed; after: red), fits the view to it and
 * switches when a change's "Show on the map" button is pressed. The changes are embedded
 * as JSON in <script id="history-geometries">: [{label, before, after}] (GeoJSON
 * geometries or null). Once drawn, the map container gets data-history-shown="<index>",
 * which browser tests wait on. Labels reach the page only through textContent.
 */
(function () {
  "use strict";

  var BEFORE = { color: "#555", weight: 2, dashArray: "5 4", fillOpacity: 0.1 };
  var AFTER = { color: "#c0392b", weight: 3, fillOpacity: 0.25 };

  function draw(map, changes, index, label) {
    if (draw.layer) map.removeLayer(draw.layer);
    var change = changes[index];
    var group = L.featureGroup();
    [[change.before, BEFORE], [change.after, AFTER]].forEach(function (pair) {
      if (!pair[0]) return;
      L.geoJSON(pair[0], {
        style: function () { return pair[1]; },
        pointToLayer: function (feature, latlng) {
          return L.circleMarker(latlng, L.extend({ radius: 8 }, pair[1]));
        }
      }).addTo(group);
    });
    group.addTo(map);
    draw.layer = group;
    var bounds = group.getBounds();
    if (bounds.isValid()) map.fitBounds(bounds, { padding: [30, 30], maxZoom: 18, animate: false });
    if (label) label.textContent = change.label;
    map.getContainer().setAttribute("data-history-shown", String(index));
  }

  function init() {
    var tag = document.getElementById("history-geometries");
    var map = window.HeritageMap && window.HeritageMap.map;
    if (!tag || !map) return;
    var changes = JSON.parse(tag.textContent);
    if (!changes.length) return;
    var label = document.getElementById("history-map-label");
    var box = map.getContainer();
    Array.prototype.forEach.call(document.querySelectorAll(".show-geometry"), function (button) {
      button.hidden = false;
      button.addEventListener("click", function () {
        draw(map, changes, Number(button.getAttribute("data-geometry")), label);
        box.scrollIntoView({ block: "center" });
      });
    });
    draw(map, changes, 0, label);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
}());
