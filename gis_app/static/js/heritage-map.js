/*
 * Heritage map: draws the layers declared in layers/ on a Leaflet map that folium
 * created. Features are loaded from the GeoJSON API for the visible bbox, so the page
 * stays small however large a layer grows. No dependency but Leaflet (global L).
 *
 *   HeritageMap.init(map, config)   config: see gis_app/maps.py::build_map
 *
 * After each load the map container gets data-hm-<layer>="<feature count>", which
 * browser tests wait on.
 */
(function () {
  "use strict";

  var HeritageMap = { layers: {}, config: null, map: null };

  function merge() {
    var out = {};
    for (var i = 0; i < arguments.length; i++) {
      var src = arguments[i];
      if (!src) continue;
      for (var k in src) if (Object.prototype.hasOwnProperty.call(src, k) && src[k] !== null) out[k] = src[k];
    }
    return out;
  }

  function featureStyle(layer, feature) {
    var style = merge(layer.style);
    if (layer.style_by && feature && feature.properties) {
      var value = feature.properties[layer.style_by.property];
      style = merge(style, layer.style_by.values[value]);
    }
    return style;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function displayValue(field, value) {
    if (value === null || value === undefined || value === "") return null;
    var labels = field.values || {};
    if (Array.isArray(value)) {
      if (!value.length) return null;
      return value.map(function (v) { return labels[v] || v; }).join(", ");
    }
    return labels[value] || value;
  }

  function fillLink(template, props) {
    var missing = false;
    var url = template.replace(/\{(\w+)\}/g, function (_, key) {
      var v = props[key];
      if (v === null || v === undefined || v === "") { missing = true; return ""; }
      return encodeURIComponent(v);
    });
    return missing ? null : url;
  }

  function popupContent(layer, props, i18n) {
    var root = el("div", "hm-popup");
    var title = props[layer.popup_title] || props.name_vi || props.name;
    if (title) root.appendChild(el("strong", "hm-popup-title", title));
    var dl = el("dl", "hm-popup-fields");
    (layer.popup_fields || []).forEach(function (field) {
      if (field.key === layer.popup_title) return;
      var value = displayValue(field, props[field.key]);
      if (value === null) return;
      dl.appendChild(el("dt", null, field.label));
      dl.appendChild(el("dd", null, value));
    });
    if (dl.childNodes.length) root.appendChild(dl);
    if (layer.link) {
      var href = fillLink(layer.link, props);
      if (href) {
        var a = el("a", "hm-site-link", i18n.open_site_page);
        a.href = href;
        root.appendChild(a);
      }
    }
    return root;
  }

  function isLine(type) { return /LineString/.test(type); }
  function isPoint(type) { return /Point/.test(type); }

  function makeGeoJsonLayer(layer, i18n) {
    var interactive = !layer.basemap;
    return L.geoJSON(null, {
      pane: layer.basemap ? "basemap" : (isPoint(layer.geometry_type) ? "markerPane" : "overlayPane"),
      interactive: interactive,
      style: function (feature) { return merge(featureStyle(layer, feature), { interactive: interactive }); },
      pointToLayer: function (feature, latlng) {
        var style = featureStyle(layer, feature);
        return L.circleMarker(latlng, merge(style, {
          pane: layer.basemap ? "basemap" : "markerPane", interactive: interactive
        }));
      },
      onEachFeature: function (feature, leafletLayer) {
        if (!interactive) return;
        leafletLayer.bindPopup(function () { return popupContent(layer, feature.properties || {}, i18n); });
        var props = feature.properties || {};
        var title = props[layer.popup_title] || props.name_vi || props.name;
        if (title && leafletLayer.bindTooltip && isPoint(feature.geometry && feature.geometry.type)) {
          leafletLayer.bindTooltip(String(title));
        }
      }
    });
  }

  function bboxParam(map) {
    var b = map.getBounds().pad(0.2);
    function r(v) { return Math.round(v * 1e6) / 1e6; }
    var minx = Math.max(-180, r(b.getWest())), maxx = Math.min(180, r(b.getEast()));
    var miny = Math.max(-90, r(b.getSouth())), maxy = Math.min(90, r(b.getNorth()));
    return [minx, miny, maxx, maxy].join(",");
  }

  function Loader(map, layer, config, group, legend) {
    this.map = map; this.layer = layer; this.config = config;
    this.group = group; this.legend = legend; this.controller = null;
    this.geojson = makeGeoJsonLayer(layer, config.i18n);
    group.addLayer(this.geojson);
  }

  Loader.prototype.setCount = function (count) {
    var container = this.map.getContainer();
    container.setAttribute("data-hm-" + this.layer.name, String(count));
  };

  Loader.prototype.refresh = function () {
    var self = this, layer = this.layer, map = this.map;
    if (!map.hasLayer(this.group)) return;
    if (this.controller) this.controller.abort();
    if (map.getZoom() < layer.min_zoom) {
      this.geojson.clearLayers();
      this.setCount(0);
      return;
    }
    var controller = typeof AbortController !== "undefined" ? new AbortController() : null;
    this.controller = controller;
    var url = this.config.api_base + "/" + encodeURIComponent(layer.name) + ".geojson?bbox=" +
      bboxParam(map) + "&limit=" + layer.limit;
    this.legend.setStatus(layer.name, this.config.i18n.loading);
    fetch(url, { signal: controller ? controller.signal : undefined, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (self.controller !== controller) return;
        self.geojson.clearLayers();
        self.geojson.addData(data);
        self.setCount(data.features.length);
        self.legend.setStatus(layer.name, "");
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return;
        console.warn("heritage-map: layer " + layer.name + ": " + err);
        self.legend.setStatus(layer.name, self.config.i18n.load_error);
      });
  };

  function swatch(layer, style) {
    var s = merge(layer.style, style);
    var node = el("span", "hm-swatch");
    node.setAttribute("aria-hidden", "true");
    if (isPoint(layer.geometry_type)) {
      node.className += " hm-swatch-point";
      node.style.background = s.fillColor || s.color;
      node.style.borderColor = s.color;
    } else if (isLine(layer.geometry_type)) {
      node.className += " hm-swatch-line";
      node.style.borderTopColor = s.color;
    } else {
      node.className += " hm-swatch-area";
      node.style.borderColor = s.color;
      node.style.borderStyle = s.dashArray ? "dashed" : "solid";
      node.style.background = s.fillColor || s.color;
      node.style.opacity = Math.max(0.45, Math.min(1, (s.fillOpacity || 0.2) * 2));
    }
    return node;
  }

  var Legend = L.Control.extend({
    options: { position: "bottomright" },
    initialize: function (config, options) {
      L.setOptions(this, options);
      this.config = config; this.hints = {}; this.statuses = {};
    },
    onAdd: function (map) {
      var config = this.config, self = this;
      var box = el("section", "hm-legend leaflet-bar");
      box.setAttribute("aria-label", config.i18n.legend);
      var button = el("button", "hm-legend-toggle", config.i18n.legend);
      button.type = "button";
      button.setAttribute("aria-expanded", "true");
      var body = el("div", "hm-legend-body");
      button.addEventListener("click", function () {
        var open = button.getAttribute("aria-expanded") === "true";
        button.setAttribute("aria-expanded", open ? "false" : "true");
        body.hidden = open;
      });
      if (map.getSize().x < 600) { button.setAttribute("aria-expanded", "false"); body.hidden = true; }
      box.appendChild(button);
      box.appendChild(body);
      config.layers.forEach(function (layer) {
        if (layer.basemap) return;
        var section = el("div", "hm-legend-layer");
        section.appendChild(el("div", "hm-legend-title", layer.title));
        var entries = layer.legend && layer.legend.length ? layer.legend : [{ label: layer.title, style: {} }];
        var list = el("ul");
        entries.forEach(function (entry) {
          var li = el("li");
          li.appendChild(swatch(layer, entry.style));
          li.appendChild(el("span", null, entry.label));
          list.appendChild(li);
        });
        section.appendChild(list);
        var hint = el("div", "hm-legend-hint");
        section.appendChild(hint);
        self.hints[layer.name] = { node: hint, layer: layer };
        body.appendChild(section);
      });
      L.DomEvent.disableClickPropagation(box);
      L.DomEvent.disableScrollPropagation(box);
      map.on("zoomend", function () { self.update(map); });
      this.update(map);
      return box;
    },
    setStatus: function (name, text) {
      this.statuses[name] = text;
      if (this._map) this.update(this._map);
    },
    update: function (map) {
      var zoom = map.getZoom(), i18n = this.config.i18n, statuses = this.statuses;
      Object.keys(this.hints).forEach(function (name) {
        var h = this.hints[name];
        var text = zoom < h.layer.min_zoom ? i18n.zoom_in_to_see : (statuses[name] || "");
        h.node.textContent = text;
        h.node.hidden = !text;
      }, this);
    }
  });

  HeritageMap.init = function (map, config) {
    HeritageMap.map = map;
    HeritageMap.config = config;
    map.createPane("basemap");
    map.getPane("basemap").style.zIndex = 250;
    map.getPane("basemap").style.pointerEvents = "none";

    var baseLayers = {}, overlays = {}, loaders = [];
    if (config.tile_url) {
      var tiles = L.tileLayer(config.tile_url, { attribution: config.tile_attribution || "", maxZoom: 19 });
      tiles.addTo(map);
      baseLayers[config.tile_attribution || "Tiles"] = tiles;
    }
    var legend = new Legend(config);
    config.layers.forEach(function (layer) {
      var group = L.layerGroup();
      HeritageMap.layers[layer.name] = group;
      var loader = new Loader(map, layer, config, group, legend);
      loaders.push(loader);
      overlays[layer.title] = group;
      if (layer.visible || layer.basemap) group.addTo(map);
      group.on("add", function () { loader.refresh(); });
    });
    L.control.layers(baseLayers, overlays, {
      collapsed: map.getSize().x < 600, position: "topright"
    }).addTo(map);
    legend.addTo(map);

    if (config.fit_bounds) {
      var b = config.fit_bounds;
      map.fitBounds([[b[1], b[0]], [b[3], b[2]]], { padding: [20, 20], maxZoom: 17 });
    }
    var refreshAll = function () { loaders.forEach(function (l) { l.refresh(); }); };
    map.on("moveend", refreshAll);
    refreshAll();
    map.getContainer().setAttribute("data-hm-ready", "1");
  };

  window.HeritageMap = HeritageMap;
})();
