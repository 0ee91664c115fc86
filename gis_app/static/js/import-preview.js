/*
 * The officials' import pages (templates/imports/).
 *
 * Preview page: draws the features of the uploaded file, embedded as GeoJSON (EPSG:4326)
 * in <script type="application/json" id="import-preview-data">, on the map that
 * HeritageMap.init (heritage-map.js) made, above the stored layers, and fits the view to
 * them. Each feature's popup lists its row and mapped fields (field labels from the
 * tag's data-labels, labels of coded values from its data-values). Once drawn, the map container gets data-import-preview="<count>", which
 * browser tests wait on. Text from the file reaches the page only through textContent.
 *
 * Upload form: the preset list only offers the presets of the chosen layer.
 */
(function () {
  "use strict";

  var STYLE = { color: "#1a5fb4", weight: 3, dashArray: "6 4", fillColor: "#1a5fb4",
                fillOpacity: 0.2, className: "import-preview-feature" };

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* A value as the user reads it: codes through `values` (e.g. zone "I"), lists joined. */
  function displayValue(value, values) {
    var parts = Array.isArray(value) ? value : [value];
    return parts.map(function (v) {
      return values && Object.prototype.hasOwnProperty.call(values, v) ? values[v] : v;
    }).join(", ");
  }

  function popupContent(props, labels, values, rowLabel) {
    var root = el("div", "hm-popup");
    root.appendChild(el("strong", "hm-popup-title", rowLabel + " " + props.row));
    var dl = el("dl", "hm-popup-fields");
    Object.keys(props).forEach(function (key) {
      var value = props[key];
      if (key === "row" || value === null || value === undefined || value === "") return;
      dl.appendChild(el("dt", null, labels[key] || key));
      dl.appendChild(el("dd", null, displayValue(value, values[key])));
    });
    if (dl.childNodes.length) root.appendChild(dl);
    return root;
  }

  function drawPreview() {
    var tag = document.getElementById("import-preview-data");
    if (!tag) return;
    var map = window.HeritageMap && window.HeritageMap.map;
    if (!map) throw new Error("import-preview: the map is not ready");
    var collection = JSON.parse(tag.textContent);
    var labels = JSON.parse(tag.getAttribute("data-labels") || "{}");
    var values = JSON.parse(tag.getAttribute("data-values") || "{}");
    var rowLabel = tag.getAttribute("data-row-label") || "Row";
    var layer = L.geoJSON(collection, {
      style: function () { return STYLE; },
      pointToLayer: function (feature, latlng) {
        return L.circleMarker(latlng, L.extend({ radius: 7, fillOpacity: 0.6 }, STYLE));
      },
      onEachFeature: function (feature, leafletLayer) {
        var props = feature.properties || {};
        leafletLayer.bindPopup(function () { return popupContent(props, labels, values, rowLabel); },
                               { maxWidth: 300 });
      }
    }).addTo(map);
    var bounds = layer.getBounds();
    if (bounds.isValid()) {
      map.fitBounds(bounds, { padding: [20, 20], maxZoom: 17, animate: false });
    }
    map.getContainer().setAttribute("data-import-preview",
                                    String((collection.features || []).length));
  }

  function linkPresetToLayer() {
    var layer = document.getElementById("layer");
    var preset = document.getElementById("preset");
    if (!layer || !preset) return;
    function sync() {
      var keep = false;
      Array.prototype.forEach.call(preset.options, function (option) {
        var forLayer = option.getAttribute("data-layer");
        if (!forLayer) return;  // "none" fits every layer
        var fits = forLayer === layer.value;
        option.hidden = !fits;
        option.disabled = !fits;
        if (fits && option.selected) keep = true;
      });
      if (!keep) {
        var first = preset.querySelector('option[data-layer="' + layer.value + '"]');
        preset.value = first ? first.value : "";
      }
    }
    layer.addEventListener("change", sync);
    sync();
  }

  function start() {
    linkPresetToLayer();
    drawPreview();
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
