/*
 * The relic editor's maps (templates/editor/), on the map HeritageMap.init made
 * (heritage-map.js), configured by <script type="application/json" id="editor-map-config">.
 *
 * mode "edit": a draggable marker at `position` ([lon, lat]; none for a new relic until
 * the map is tapped). Dragging it or tapping the map writes the WGS 84 degrees into #lat
 * and #lon and chooses "WGS 84" as the way the position is given; typing into #lat/#lon
 * moves the marker. The form works without this script: the fields are plain inputs.
 *
 * mode "review": the position `before` (grey) and `after` (red) with a dashed line from
 * one to the other, the map fitted to both; for a zone proposal, the outlines
 * `zone_before` (grey, dashed) and `zone_after` (red) as GeoJSON, the map fitted to both.
 *
 * The map container gets data-editor="ready" once the markers are drawn.
 */
(function () {
  "use strict";

  function readConfig() {
    var tag = document.getElementById("editor-map-config");
    return tag ? JSON.parse(tag.textContent) : null;
  }

  function pin(kind, label) {
    return L.divIcon({ className: "editor-pin editor-pin-" + kind, iconSize: [22, 22],
                       iconAnchor: [11, 11], html: "<span></span>" , tooltipAnchor: [12, 0] });
  }

  function initEdit(map, config) {
    var lat = document.getElementById("lat");
    var lon = document.getElementById("lon");
    var wgs84 = document.querySelector('input[name="position_mode"][value="wgs84"]');
    var marker = null;
    var factor = Math.pow(10, config.decimals || 7);

    function round(v) { return Math.round(v * factor) / factor; }

    function write(latlng) {
      lat.value = String(round(latlng.lat));
      lon.value = String(round(latlng.lng));
      if (wgs84) wgs84.checked = true;
    }

    function place(latlng) {
      if (marker) {
        marker.setLatLng(latlng);
        return;
      }
      marker = L.marker(latlng, { draggable: true, autoPan: true, keyboard: true,
                                  title: config.marker, alt: config.marker,
                                  icon: pin("edit") }).addTo(map);
      marker.on("dragend", function () { write(marker.getLatLng()); });
    }

    if (config.position) {
      place(L.latLng(config.position[1], config.position[0]));
    }
    map.on("click", function (e) {
      place(e.latlng);
      write(e.latlng);
    });
    function typed() {
      var y = parseFloat(String(lat.value).replace(",", "."));
      var x = parseFloat(String(lon.value).replace(",", "."));
      if (isFinite(x) && isFinite(y) && Math.abs(y) <= 90 && Math.abs(x) <= 180) {
        place(L.latLng(y, x));
        map.panTo([y, x]);
      }
    }
    lat.addEventListener("change", typed);
    lon.addEventListener("change", typed);
  }

  function initZoneReview(map, config) {
    var bounds = L.latLngBounds([]);
    function outline(geometry, kind, style) {
      if (!geometry) return;
      var layer = L.geoJSON(geometry, { style: function () { return style; },
                                        interactive: false }).addTo(map);
      layer.eachLayer(function (l) {
        var path = l.getElement && l.getElement();
        if (path) path.classList.add("zone-outline-" + kind);
      });
      bounds.extend(layer.getBounds());
    }
    outline(config.zone_before, "before", { color: "#555", weight: 3, dashArray: "6 6",
                                            fillOpacity: 0.05 });
    outline(config.zone_after, "after", { color: "#c62828", weight: 3, fillOpacity: 0.12 });
    if (bounds.isValid()) map.fitBounds(bounds.pad(0.2), { maxZoom: 19, animate: false });
  }

  function initReview(map, config) {
    if (config.zone_after) { initZoneReview(map, config); return; }
    if (!config.before || !config.after) return;
    var before = L.latLng(config.before[1], config.before[0]);
    var after = L.latLng(config.after[1], config.after[0]);
    L.polyline([before, after], { color: "#444", weight: 2, dashArray: "6 6",
                                  interactive: false }).addTo(map);
    L.marker(before, { icon: pin("before"), title: config.before_label, alt: config.before_label })
      .bindTooltip(config.before_label, { permanent: true, direction: "right" }).addTo(map);
    L.marker(after, { icon: pin("after"), title: config.after_label, alt: config.after_label })
      .bindTooltip(config.after_label, { permanent: true, direction: "right" }).addTo(map);
    map.fitBounds(L.latLngBounds([before, after]).pad(0.5), { maxZoom: 18 });
  }

  function start() {
    var config = readConfig();
    var map = window.HeritageMap && window.HeritageMap.map;
    if (!config || !map || !window.L) return;
    if (config.mode === "edit") initEdit(map, config);
    if (config.mode === "review") initReview(map, config);
    map.getContainer().setAttribute("data-editor", "ready");
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
}());
