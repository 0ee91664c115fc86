/*
 * Heritage map: draws the layers declared in layers/ on a Leaflet map that folium
 * created. Features are loaded from the GeoJSON API for the visible bbox, so the page
 * stays small however large a layer grows. No dependency but Leaflet (global L), which
 * is only needed when init() runs, so this file may load before or after leaflet.js.
 *
 *   HeritageMap.init(map, config)   config: see gis_app/maps.py::build_map
 *
 * After each load the map container gets data-hm-<layer>="<feature count>" (0 below the
 * layer's min zoom), which browser tests wait on, and the map fires "hm:load"
 * {layer, features}; HeritageMap.layers maps each layer name to its L.LayerGroup.
 *
 * A layer with `marker` (layers/sites.py MARKER) is drawn as icons (a glyph per type, a
 * size per rank); with `cluster` (and Leaflet.markercluster loaded) its markers are
 * clustered; with `url` it is loaded from that endpoint instead of the layer API, with
 * the extra query parameters given by HeritageMap.setParams(name, params). A layer's
 * `params` (e.g. {as_of: "2026-01-31"} on the officials' map) go with every request.
 * HeritageMap.cards[name] = function (props) -> Node replaces the layer's popup.
 *
 * An answer cut at the layer's `limit` carries numberMatched (the API counts the matches
 * only then): the map shows "Showing 5,000 of 12,345 relics — zoom in to see them all"
 * (i18n.capped, numbers in the page's language) at its top, one line per cut layer, and
 * drops the line when the layer's next answer is whole, the layer is hidden or below its
 * min zoom. The container's data-hm-<layer>-matched holds the count (absent when whole).
 *
 * Text from the data only ever reaches the page through textContent: Leaflet renders
 * string popup/tooltip content and layer-control names as HTML, so we hand it DOM nodes
 * (popups, tooltips) or escaped strings (layer control).
 */
(function () {
  "use strict";

  var HeritageMap = { layers: {}, loaders: {}, cards: {}, config: null, map: null };
  var LOADING_DELAY_MS = 400;  // show "loading" only for loads slower than this

  function merge() {
    var out = {};
    for (var i = 0; i < arguments.length; i++) {
      var src = arguments[i];
      if (!src) continue;
      for (var k in src) {
        if (Object.prototype.hasOwnProperty.call(src, k) && src[k] !== null) out[k] = src[k];
      }
    }
    return out;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function escapeHtml(text) {
    return String(text).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }

  /* 12345 -> "12.345" (vi) / "12,345" (en), as gis_app/numbers.py writes numbers. */
  function formatCount(n, lang) {
    try { return new Intl.NumberFormat(lang === "en" ? "en" : "vi").format(n); }
    catch (e) { return String(n); }
  }

  /* The notice over the map of the layers whose answer was cut at their limit. */
  function CappedNotice(map, config) {
    this.map = map; this.config = config; this.lines = {};
    this.node = el("div", "hm-capped");
    this.node.setAttribute("role", "status");  // read out when a line comes or goes
    L.DomEvent.disableClickPropagation(this.node);
    L.DomEvent.disableScrollPropagation(this.node);
    map.getContainer().appendChild(this.node);
  }

  /* `total` features match layer's view and `shown` are drawn; total null: all are. */
  CappedNotice.prototype.set = function (layer, shown, total) {
    var container = this.map.getContainer(), attr = "data-hm-" + layer.name + "-matched";
    if (total === null || total === undefined || total <= shown) {
      if (!this.lines[layer.name] && !container.hasAttribute(attr)) return;
      delete this.lines[layer.name];
      container.removeAttribute(attr);
    } else {
      var lang = this.config.lang;
      this.lines[layer.name] = (this.config.i18n.capped || "{shown} / {total} {items}")
        .replace("{shown}", formatCount(shown, lang))
        .replace("{total}", formatCount(total, lang))
        .replace("{items}", layer.items || layer.title);
      container.setAttribute(attr, String(total));
    }
    var node = this.node, lines = this.lines;
    while (node.firstChild) node.removeChild(node.firstChild);
    this.config.layers.forEach(function (l) {
      if (lines[l.name]) node.appendChild(el("p", null, lines[l.name]));
    });
  };

  function isLine(type) { return /LineString/.test(type || ""); }
  function isPoint(type) { return /Point/.test(type || ""); }

  /* The relic badge: colour and glyph of the first type, diameter by rank. */
  function relicIconParts(marker, props) {
    var types = props[marker.type_property];
    var type = Array.isArray(types) ? types[0] : types;
    var key = marker.icons[type] ? type : "unknown";
    var size = marker.sizes[props[marker.size_property]] || marker.default_size;
    return { key: key, icon: marker.icons[key], size: size };
  }

  function badgeHtml(icon) {
    return '<span class="hm-relic-badge" style="background:' + escapeHtml(icon.color) + '">' +
      '<svg viewBox="0 0 16 16" aria-hidden="true" focusable="false"><path d="' +
      escapeHtml(icon.path) + '"/></svg></span>';
  }

  function relicIcon(marker, props) {
    var p = relicIconParts(marker, props);
    return L.divIcon({
      className: "hm-relic-marker hm-type-" + p.key, html: badgeHtml(p.icon),
      iconSize: [p.size, p.size], popupAnchor: [0, -p.size / 2], tooltipAnchor: [p.size / 2, 0]
    });
  }

  function clusterIcon(i18n) {
    return function (cluster) {
      var n = cluster.getChildCount();
      var size = n < 10 ? 38 : n < 100 ? 44 : 52;
      return L.divIcon({
        className: "marker-cluster hm-cluster", iconSize: L.point(size, size),
        html: '<span aria-hidden="true">' + n + '</span><span class="hm-visually-hidden">' +
          escapeHtml((i18n.cluster || "{n}").replace("{n}", n)) + "</span>"
      });
    };
  }

  function featureStyle(layer, feature) {
    var style = merge(layer.style);
    if (layer.style_by && feature && feature.properties) {
      var value = feature.properties[layer.style_by.property];
      style = merge(style, (layer.style_by.values || {})[value]);
    }
    return style;
  }

  function featureTitle(layer, props) {
    var title = props[layer.popup_title];
    if (title === null || title === undefined || title === "") title = props.name_vi || props.name;
    return title === null || title === undefined || title === "" ? null : String(title);
  }

  /* A property as the user reads it: codes through field.values, lists joined. */
  function displayValue(field, value) {
    if (value === null || value === undefined || value === "") return null;
    var labels = field.values || {};
    if (Array.isArray(value)) {
      var parts = value.filter(function (v) { return v !== null && v !== undefined && v !== ""; });
      if (!parts.length) return null;
      return parts.map(function (v) { return labels[v] || v; }).join(", ");
    }
    if (typeof value === "object") return null;
    return String(labels[value] || value);
  }

  /* "/sites/{heritage_id}" -> "/sites/VN-HY-DT-000123"; null if a value is missing. */
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
    if (HeritageMap.cards[layer.name]) return HeritageMap.cards[layer.name](props);
    var root = el("div", "hm-popup");
    var title = featureTitle(layer, props);
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

  /* SVG markers are not focusable by default: let keyboard users open their popups. */
  function makeFocusable(leafletLayer, title) {
    var icon = leafletLayer._icon;
    if (icon) {
      // Leaflet makes marker icons focusable and opens them on Enter; add a name and Space.
      icon.setAttribute("role", "button");
      if (title) icon.setAttribute("aria-label", title);
      L.DomEvent.on(icon, "keydown", function (e) {
        if (e.key === " ") { L.DomEvent.preventDefault(e); leafletLayer.openPopup(); }
      });
      return;
    }
    var path = leafletLayer._path;  // SVG renderer only; canvas has no element per feature
    if (!path) return;
    path.setAttribute("tabindex", "0");
    path.setAttribute("role", "button");
    if (title) path.setAttribute("aria-label", title);
    path.classList.add("hm-focusable");
    L.DomEvent.on(path, "keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") {
        L.DomEvent.preventDefault(e);
        leafletLayer.openPopup();
      }
    });
  }

  function makeGeoJsonLayer(layer, i18n) {
    var interactive = !layer.basemap;
    var pane = layer.basemap ? "basemap" : (isPoint(layer.geometry_type) ? "markerPane" : "overlayPane");
    return L.geoJSON(null, {
      pane: pane,
      interactive: interactive,
      style: function (feature) { return featureStyle(layer, feature); },
      pointToLayer: function (feature, latlng) {
        if (layer.marker) {
          return L.marker(latlng, { icon: relicIcon(layer.marker, feature.properties || {}),
                                    keyboard: interactive, interactive: interactive,
                                    riseOnHover: true });
        }
        return L.circleMarker(latlng, merge(featureStyle(layer, feature), {
          pane: layer.basemap ? "basemap" : "markerPane", interactive: interactive
        }));
      },
      onEachFeature: function (feature, leafletLayer) {
        if (!interactive) return;
        var props = feature.properties || {};
        var title = featureTitle(layer, props);
        leafletLayer.bindPopup(function () { return popupContent(layer, props, i18n); },
                               { maxWidth: 300, autoPanPadding: [16, 16],
                                 className: HeritageMap.cards[layer.name] ? "hm-card-popup" : "" });
        if (isPoint(feature.geometry && feature.geometry.type)) {
          if (title) leafletLayer.bindTooltip(function () { return el("span", null, title); });
          leafletLayer.on("add", function () { makeFocusable(leafletLayer, title); });
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

  function featureKey(feature) {
    if (feature.id !== undefined && feature.id !== null) return "id:" + feature.id;
    return null;
  }

  /* Loads one layer for the current view and keeps its features in sync with it. */
  function Loader(map, layer, config, group, legend, notice) {
    this.map = map; this.layer = layer; this.config = config;
    this.group = group; this.legend = legend; this.notice = notice;
    this.controller = null; this.pendingUrl = null; this.loadedUrl = null;
    this.loadingTimer = null;
    this.byKey = {};  // feature id -> Leaflet layer, to keep unchanged features (and their open popup)
    // Extra query parameters: the layer's own (e.g. as_of on the officials' map), then
    // those set by HeritageMap.setParams (layers with their own `url`).
    this.params = merge(layer.params);
    this.geojson = makeGeoJsonLayer(layer, config.i18n);
    this.cluster = null;
    if (layer.cluster && L.markerClusterGroup) {
      // The GeoJSON layer only holds the markers; the cluster group draws them.
      this.cluster = L.markerClusterGroup({
        showCoverageOnHover: false, maxClusterRadius: 48, spiderfyOnMaxZoom: true,
        iconCreateFunction: clusterIcon(config.i18n)
      });
      group.addLayer(this.cluster);
    } else {
      group.addLayer(this.geojson);
    }
  }

  /* Adds features to the GeoJSON layer (and the cluster group); the new Leaflet layers. */
  Loader.prototype.add = function (features) {
    var geojson = this.geojson, before = {}, added = [];
    geojson.eachLayer(function (l) { before[L.stamp(l)] = true; });
    geojson.addData({ type: "FeatureCollection", features: features });
    geojson.eachLayer(function (l) { if (!before[L.stamp(l)]) added.push(l); });
    if (this.cluster) this.cluster.addLayers(added);
    return added;
  };

  Loader.prototype.remove = function (leafletLayer) {
    this.geojson.removeLayer(leafletLayer);
    if (this.cluster) this.cluster.removeLayer(leafletLayer);
  };

  Loader.prototype.url = function () {
    var layer = this.layer, params = this.params;
    var url = layer.url ? layer.url + "?" :
      this.config.api_base + "/" + encodeURIComponent(layer.name) + ".geojson?";
    url += "bbox=" + bboxParam(this.map) + "&limit=" + encodeURIComponent(layer.limit);
    Object.keys(params).sort().forEach(function (k) {
      if (params[k] !== "" && params[k] !== null && params[k] !== undefined) {
        url += "&" + encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
      }
    });
    return url;
  };

  Loader.prototype.setCount = function (count) {
    this.map.getContainer().setAttribute("data-hm-" + this.layer.name, String(count));
  };

  Loader.prototype.abort = function () {
    if (this.controller) this.controller.abort();
    this.controller = null;
    this.pendingUrl = null;
    this.stopLoading();
  };

  Loader.prototype.stopLoading = function () {
    if (this.loadingTimer) clearTimeout(this.loadingTimer);
    this.loadingTimer = null;
  };

  Loader.prototype.clear = function () {
    this.geojson.clearLayers();
    if (this.cluster) this.cluster.clearLayers();
    this.byKey = {};
    this.loadedUrl = null;
  };

  /* Replaces the features by `features`, leaving those already drawn in place. */
  Loader.prototype.replace = function (features) {
    var self = this, geojson = this.geojson, old = this.byKey, kept = {}, fresh = [], next = {};
    var keyed = features.every(function (f) { return featureKey(f) !== null; });
    if (!keyed) {
      this.clear();
      this.add(features);
      return;
    }
    features.forEach(function (f) {
      var key = featureKey(f);
      if (old[key] && !kept[key]) kept[key] = true; else if (!kept[key]) fresh.push(f);
    });
    Object.keys(old).forEach(function (key) { if (!kept[key]) self.remove(old[key]); });
    if (fresh.length) this.add(fresh);
    geojson.eachLayer(function (l) { if (l.feature) next[featureKey(l.feature)] = l; });
    this.byKey = next;
  };

  Loader.prototype.refresh = function () {
    var self = this, layer = this.layer, map = this.map, i18n = this.config.i18n;
    if (!map.hasLayer(this.group)) { this.abort(); return; }
    if (map.getZoom() < layer.min_zoom) {
      this.abort();
      this.clear();
      this.setCount(0);
      this.notice.set(layer, 0, null);
      this.legend.setStatus(layer.name, "");
      return;
    }
    var url = this.url();
    if (url === this.pendingUrl || (!this.pendingUrl && url === this.loadedUrl)) return;
    this.abort();
    var controller = typeof AbortController !== "undefined" ? new AbortController() : null;
    this.controller = controller;
    this.pendingUrl = url;
    this.loadingTimer = setTimeout(function () {
      self.legend.setStatus(layer.name, i18n.loading);
    }, LOADING_DELAY_MS);
    fetch(url, { signal: controller ? controller.signal : undefined, credentials: "same-origin",
                 headers: { Accept: "application/geo+json" } })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        if (self.pendingUrl !== url) return;  // superseded
        if (!data || !Array.isArray(data.features)) throw new Error("not a FeatureCollection");
        self.replace(data.features);
        self.controller = null; self.pendingUrl = null; self.loadedUrl = url;
        self.stopLoading();
        self.setCount(data.features.length);
        self.notice.set(layer, data.features.length,
                        typeof data.numberMatched === "number" ? data.numberMatched : null);
        self.legend.setStatus(layer.name, "");
        map.fire("hm:load", { layer: layer.name, features: data.features });
      })
      .catch(function (err) {
        if (err && err.name === "AbortError") return;
        if (self.pendingUrl !== url) return;
        self.controller = null; self.pendingUrl = null; self.loadedUrl = null;  // retry on next move
        self.stopLoading();
        console.warn("heritage-map: layer " + layer.name + ": " + err);
        self.legend.setStatus(layer.name, i18n.load_error, true);
      });
  };

  function swatch(layer, style) {
    var s = merge(layer.style, style);
    var node = el("span", "hm-swatch");
    node.setAttribute("aria-hidden", "true");
    var color = s.color || "#3388ff";
    if (layer.marker && s.icon) {
      var p = relicIconParts(layer.marker, { types: [s.icon], rank: s.rank });
      node.className = "hm-swatch-icon";
      node.innerHTML = badgeHtml(p.icon);
      var px = s.rank ? Math.round(p.size * 0.6) : 20;
      node.style.width = node.style.height = px + "px";
      return node;
    }
    if (isPoint(layer.geometry_type)) {
      var size = Math.max(8, Math.min(22, 2 * (s.radius || 7)));
      node.className += " hm-swatch-point";
      node.style.width = node.style.height = size + "px";
      node.style.background = s.fillColor || color;
      node.style.borderColor = color;
    } else if (isLine(layer.geometry_type)) {
      node.className += " hm-swatch-line";
      node.style.borderTopColor = color;
      node.style.borderTopWidth = Math.max(2, Math.min(6, s.weight || 3)) + "px";
      node.style.borderTopStyle = s.dashArray ? "dashed" : "solid";
    } else {
      node.className += " hm-swatch-area";
      node.style.borderColor = color;
      node.style.borderStyle = s.dashArray ? "dashed" : "solid";
      var fill = el("span", "hm-swatch-fill");
      fill.style.background = s.fillColor || color;
      var opacity = s.fillOpacity === undefined ? 0.2 : s.fillOpacity;
      fill.style.opacity = String(Math.max(0.25, Math.min(1, opacity)));
      node.appendChild(fill);
    }
    return node;
  }

  /* fitBounds options that keep `bounds` clear of the controls in the map's right-hand
   * corners (the layers list at the top, the legend at the bottom): padding on the right
   * as wide as the widest of them, or at the top and bottom as tall as they are,
   * whichever lets the map zoom in further. */
  function fitOptions(map, bounds, nodes) {
    var box = map.getContainer().getBoundingClientRect();
    var right = 0, top = 0, bottom = 0, margin = 20;
    nodes.forEach(function (node) {
      var r = node && node.getBoundingClientRect();
      if (!r || !r.width || !r.height) return;
      right = Math.max(right, box.right - r.left);
      if ((r.top + r.bottom) / 2 < box.top + box.height / 2) top = Math.max(top, r.bottom - box.top);
      else bottom = Math.max(bottom, box.bottom - r.top);
    });
    var sideways = { paddingTopLeft: [margin, margin], paddingBottomRight: [right + margin, margin] };
    var stacked = { paddingTopLeft: [margin, top + margin], paddingBottomRight: [margin, bottom + margin] };
    function zoomWith(o) {  // -Infinity when the padding leaves no room at all
      var padding = L.point(o.paddingTopLeft).add(o.paddingBottomRight);
      var room = map.getSize().subtract(padding);
      return room.x > 0 && room.y > 0 ? map.getBoundsZoom(bounds, false, padding) : -Infinity;
    }
    var best = zoomWith(sideways) >= zoomWith(stacked) ? sideways : stacked;
    if (zoomWith(best) === -Infinity) best = { padding: [margin, margin] };  // a tiny map
    best.maxZoom = 17;
    best.animate = false;
    return best;
  }

  var legendCount = 0;

  /* Built at init, not at load, so that this file does not need L when it loads. */
  function makeLegendClass() {
    return L.Control.extend({
      options: { position: "bottomright" },
      initialize: function (config, options) {
        L.setOptions(this, options);
        this.config = config; this.sections = {}; this.statuses = {};
      },
      onAdd: function (map) {
        var config = this.config, self = this;
        var id = "hm-legend-body-" + (++legendCount);
        var box = el("section", "hm-legend leaflet-bar");
        box.setAttribute("aria-label", config.i18n.legend);
        var button = el("button", "hm-legend-toggle", config.i18n.legend);
        button.type = "button";
        button.setAttribute("aria-controls", id);
        var body = el("div", "hm-legend-body");
        body.id = id;
        function setOpen(open) {
          button.setAttribute("aria-expanded", open ? "true" : "false");
          body.hidden = !open;
        }
        var size = map.getSize();
        setOpen(size.x >= 600 && size.y >= 400);  // folded on phones and small maps
        button.addEventListener("click", function () {
          setOpen(button.getAttribute("aria-expanded") !== "true");
        });
        box.appendChild(button);
        box.appendChild(body);
        config.layers.forEach(function (layer) {
          if (layer.basemap) return;
          var section = el("div", "hm-legend-layer");
          var own = layer.legend && layer.legend.length;
          // Without entries of its own a layer is one entry named by its title.
          if (own) section.appendChild(el("div", "hm-legend-title", layer.title));
          var entries = own ? layer.legend : [{ label: layer.title, style: {} }];
          var list = el("ul");
          entries.forEach(function (entry) {
            var li = el("li");
            li.appendChild(swatch(layer, entry.style));
            li.appendChild(el("span", null, entry.label));
            list.appendChild(li);
          });
          section.appendChild(list);
          var hint = el("div", "hm-legend-hint");
          hint.hidden = true;
          section.appendChild(hint);
          self.sections[layer.name] = { node: section, hint: hint, layer: layer };
          body.appendChild(section);
        });
        L.DomEvent.disableClickPropagation(box);
        L.DomEvent.disableScrollPropagation(box);
        stopTapZoom(box);
        this._box = box;
        map.on("zoomend", this.update, this);
        map.on("resize", this.fit, this);
        this.fit();
        this.update();
        return box;
      },
      onRemove: function (map) {
        map.off("zoomend", this.update, this);
        map.off("resize", this.fit, this);
      },
      /* Never taller than the map minus room for the controls above it. */
      fit: function () {
        if (this._map) this._box.style.maxHeight = Math.max(96, this._map.getSize().y - 110) + "px";
      },
      setStatus: function (name, text, isError) {
        this.statuses[name] = { text: text || "", error: !!isError };
        this.update();
      },
      setShown: function (name, shown) {
        var s = this.sections[name];
        if (s) s.node.classList.toggle("hm-legend-off", !shown);
      },
      update: function () {
        if (!this._map) return;
        var zoom = this._map.getZoom(), i18n = this.config.i18n, statuses = this.statuses;
        Object.keys(this.sections).forEach(function (name) {
          var s = this.sections[name], status = statuses[name] || { text: "" };
          var below = zoom < s.layer.min_zoom;
          var text = below ? i18n.zoom_in_to_see : status.text;
          s.hint.textContent = text;
          s.hint.hidden = !text;
          s.hint.className = "hm-legend-hint" + (!below && status.error ? " hm-legend-error" : "");
        }, this);
      }
    });
  }

  /* Leaflet (1.9.4) turns two touch clicks within 250 ms anywhere in the map container
     into a dblclick that zooms, even when they land on two different controls. */
  function stopTapZoom(container) {
    L.DomEvent.on(container, "click", L.DomEvent.stopPropagation);
  }

  /* L.control.layers with a heading above the background ("Nền") layers. */
  function makeLayersControlClass() {
    return L.Control.Layers.extend({
      initialize: function (baseLayers, overlays, options, groupTitle, basemapIds) {
        L.Control.Layers.prototype.initialize.call(this, baseLayers, overlays, options);
        this._hmGroupTitle = groupTitle;
        this._hmBasemapIds = basemapIds;
      },
      _addItem: function (obj) {
        var label = L.Control.Layers.prototype._addItem.call(this, obj);
        if (this._hmBasemapIds[L.stamp(obj.layer)]) label.className += " hm-basemap-item";
        return label;
      },
      _update: function () {
        L.Control.Layers.prototype._update.call(this);
        if (!this._container) return this;
        var first = this._overlaysList.querySelector(".hm-basemap-item");
        if (first) this._overlaysList.insertBefore(el("div", "hm-control-group", this._hmGroupTitle), first);
        return this;
      }
    });
  }

  function text(i18n, key, lang, vi, en) {
    return i18n[key] || (lang === "en" ? en : vi);
  }

  HeritageMap.init = function (map, config) {
    var i18n = config.i18n = config.i18n || {};
    var lang = config.lang;
    i18n.layers = text(i18n, "layers", lang, "Lớp bản đồ", "Layers");
    i18n.legend = text(i18n, "legend", lang, "Chú giải", "Legend");
    i18n.zoom_in_to_see = text(i18n, "zoom_in_to_see", lang, "Phóng to để xem", "Zoom in to see");
    i18n.open_site_page = text(i18n, "open_site_page", lang, "Xem trang di tích", "Open the relic's page");
    i18n.loading = text(i18n, "loading", lang, "Đang tải…", "Loading…");
    i18n.load_error = text(i18n, "load_error", lang, "Không tải được lớp", "Could not load the layer");
    i18n.basemap = text(i18n, "basemap", lang, "Nền", "Background");
    i18n.tiles = text(i18n, "tiles", lang, "Bản đồ nền", "Base map");

    HeritageMap.map = map;
    HeritageMap.config = config;
    // The page around the map can change its height (a results list on a phone, the
    // on-screen keyboard): keep Leaflet's idea of the map's size true, or popups and
    // panning aim outside the visible map.
    if (window.ResizeObserver) {
      new ResizeObserver(function () { map.invalidateSize({ pan: false }); })
        .observe(map.getContainer());
    }
    // Without a tile layer Leaflet has no maximum zoom, which clustering needs.
    if (map.options.maxZoom === undefined) map.setMaxZoom(19);
    HeritageMap.layers = {};
    if (!map.getPane("basemap")) {
      var pane = map.createPane("basemap");
      pane.style.zIndex = 250;  // above tiles (200), below overlays (400)
      pane.style.pointerEvents = "none";
    }

    // The tourist page shows its script-only controls first, so the map has its final
    // size before it is fitted and loaded (else the resize reloads every layer).
    if (config.tourist && window.TouristMap && window.TouristMap.prepare) {
      window.TouristMap.prepare();
      map.invalidateSize({ pan: false });
    }
    var starting = true;  // layers load once, for the fitted view (not the initial one)
    var legend = new (makeLegendClass())(config);
    var notice = new CappedNotice(map, config);
    var loaders = [], overlays = [], background = [], basemapIds = {};
    if (config.tile_url) {
      var tiles = L.tileLayer(config.tile_url, {
        attribution: config.tile_attribution || "", maxZoom: 19, crossOrigin: true
      }).addTo(map);
      basemapIds[L.stamp(tiles)] = true;
      background.push([tiles, i18n.tiles]);
    }
    (config.layers || []).forEach(function (layer) {
      var group = L.layerGroup();
      HeritageMap.layers[layer.name] = group;
      var loader = new Loader(map, layer, config, group, legend, notice);
      loaders.push(loader);
      HeritageMap.loaders[layer.name] = loader;
      if (layer.basemap) {
        basemapIds[L.stamp(group)] = true;
        background.push([group, layer.title]);
      } else {
        overlays.push([group, layer.title]);
      }
      group.on("add", function () { legend.setShown(layer.name, true); if (!starting) loader.refresh(); });
      group.on("remove", function () {
        legend.setShown(layer.name, false);
        loader.abort();
        notice.set(layer, 0, null);
      });
      if (layer.visible || layer.basemap) group.addTo(map);
      else legend.setShown(layer.name, false);
    });

    var size = map.getSize();
    var control = new (makeLayersControlClass())({}, {}, {
      collapsed: size.x < 600 || size.y < 400,  // phones and small maps (site page)
      position: "topright", sortLayers: false
    }, i18n.basemap, basemapIds);
    overlays.concat(background).forEach(function (item) {
      control.addOverlay(item[0], escapeHtml(item[1]));
    });
    control.addTo(map);
    stopTapZoom(control.getContainer());
    var toggle = control.getContainer().querySelector(".leaflet-control-layers-toggle");
    if (toggle) { toggle.title = i18n.layers; toggle.setAttribute("aria-label", i18n.layers); }
    legend.addTo(map);
    (config.layers || []).forEach(function (layer) {
      legend.setShown(layer.name, map.hasLayer(HeritageMap.layers[layer.name]));
    });

    var refreshAll = function () { if (!starting) loaders.forEach(function (l) { l.refresh(); }); };
    map.on("moveend", refreshAll);
    if (config.fit_bounds) {
      var b = config.fit_bounds;
      var bounds = L.latLngBounds([[b[1], b[0]], [b[3], b[2]]]);
      map.fitBounds(bounds, fitOptions(map, bounds,
                                       [control.getContainer(), legend.getContainer()]));
    }
    starting = false;
    refreshAll();
    if (config.tourist && window.TouristMap) window.TouristMap.init(HeritageMap, map, config);
    map.getContainer().setAttribute("data-hm-ready", "1");
    return HeritageMap;
  };

  /* Loads layer `name` again with these extra query parameters (layers with a `url`). */
  HeritageMap.setParams = function (name, params) {
    var loader = HeritageMap.loaders[name];
    if (!loader) return;
    loader.params = merge(loader.layer.params, params);
    loader.refresh();
  };

  /* The Leaflet layer of feature `id` in layer `name`, adding `feature` if it is not
     loaded yet (e.g. a search result outside the view). */
  HeritageMap.featureLayer = function (name, id, feature) {
    var loader = HeritageMap.loaders[name];
    if (!loader) return null;
    var key = "id:" + id;
    if (!loader.byKey[key] && feature) {
      var added = loader.add([feature]);
      if (added.length) loader.byKey[key] = added[0];
    }
    return loader.byKey[key] || null;
  };

  HeritageMap.el = el;  // shared with tourist-map.js
  HeritageMap.formatCount = formatCount;
  window.HeritageMap = HeritageMap;
})();
