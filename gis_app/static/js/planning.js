/*
 * The planners' page (/planning): a parcel drawn on the map (Leaflet-Geoman), typed as
 * coordinates or read from an uploaded file is checked against the protection zones by
 * the JSON API POST /api/zone-check, and the answer is shown as a table and the rules.
 *
 * Typed VN-2000 coordinates are sent as they are, with ?crs=EPSG:xxxx: the server
 * transforms them (never this script). Everything from the server or the user reaches
 * the page through textContent, never innerHTML.
 *
 * Needs: Leaflet (L), HeritageMap (heritage-map.js, already initialised by the folium
 * script), Leaflet-Geoman, and <script id="planning-config"> (gis_app/web/planning.py).
 * When a check has been shown, #planning-results gets data-state="done"; browser tests
 * wait on it.
 */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("planning-config").textContent);
  var T = cfg.text;
  var locale = cfg.lang === "vi" ? "vi-VN" : "en-GB";
  var numberFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 1 });
  var NORTHING_MIN = 1000000;  // VN-2000 northings have 7 digits, eastings 6

  var map = window.HeritageMap && HeritageMap.map;
  var drawn = L.featureGroup().addTo(map);  // the parcel being checked (drawn, typed, uploaded)
  var drawing = false;
  var PARCEL_STYLE = { color: "#6a1b9a", weight: 3, fillOpacity: 0.15 };

  /* A typed or uploaded parcel (lon/lat GeoJSON) drawn like a drawn one. */
  function parcelLayer(geojson) {
    return L.geoJSON(geojson, {
      style: function () { return PARCEL_STYLE; },
      pointToLayer: function (_, latlng) {
        return L.circleMarker(latlng, L.extend({ radius: 8 }, PARCEL_STYLE));
      }
    });
  }

  var $ = function (id) { return document.getElementById(id); };
  var errorBox = $("planning-error");
  var statusBox = $("planning-status");
  var results = $("planning-results");
  var resultsBody = $("planning-results-body");
  var reportTemplate = $("report-form");

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  /* "%(line)s" placeholders (Flask-Babel msgids) filled with values. */
  function fill(template, values) {
    return template.replace(/%\((\w+)\)s/g, function (_, key) {
      return values[key] === undefined ? "" : String(values[key]);
    });
  }

  function number(value) { return numberFormat.format(value); }

  function showError(message) {
    statusBox.textContent = "";
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  function clearMessages() {
    errorBox.hidden = true;
    errorBox.textContent = "";
  }

  function asOfDate() { return $("planning-date").value; }

  // --- the check ------------------------------------------------------------------

  /* parcels: [{geometry, crs}] in the order of the payload; crs is the typed one or null. */
  function check(payload, crs, parcels) {
    clearMessages();
    statusBox.textContent = T.checking;
    results.hidden = true;
    results.removeAttribute("data-state");
    var query = "?crs=" + encodeURIComponent(crs) + "&lang=" + encodeURIComponent(cfg.lang);
    if (asOfDate()) query += "&date=" + encodeURIComponent(asOfDate());
    return fetch(cfg.check_url + query, {
      method: "POST",
      headers: { "Content-Type": "application/json", "Accept": "application/json",
                 "Accept-Language": cfg.lang },
      body: JSON.stringify(payload)
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok) throw new Error(body.message || T.err_network);
        statusBox.textContent = "";
        showResults(body.results || [], parcels);
      });
    }).catch(function (error) {
      showError(error instanceof TypeError ? T.err_network : error.message);
    });
  }

  function siteName(item) {
    return cfg.lang === "en" && item.site_name_en ? item.site_name_en : item.site_name_vi;
  }

  function siteLink(item) {
    var a = el("a", null, siteName(item));
    a.href = cfg.site_url.replace("HID", encodeURIComponent(item.heritage_id));
    return a;
  }

  function hitsTable(hits, isArea) {
    var table = el("table", "zones planning-hits");
    table.appendChild(el("caption", null, T.hits_title));
    var head = table.createTHead().insertRow();
    [T.relic, T.zone, T.overlap_m2, T.overlap_pct, T.distance_m].forEach(function (label, i) {
      var th = el("th", i > 1 ? "num" : null, label);
      th.scope = "col";
      head.appendChild(th);
    });
    var body = table.createTBody();
    hits.forEach(function (hit) {
      var row = body.insertRow();
      row.insertCell().appendChild(siteLink(hit));
      var zone = row.insertCell();
      zone.textContent = cfg.zones[hit.zone] || hit.zone;
      if (hit.decision_no) zone.appendChild(el("span", "muted small block", T.decision + " " + hit.decision_no));
      [isArea ? number(hit.overlap_m2) : "—", isArea ? number(hit.overlap_pct) : "—",
       number(hit.relic_distance_m)].forEach(function (text) {
        row.appendChild(el("td", "num", text));
      });
    });
    return table;
  }

  function rulesList(hits) {
    var box = el("div", "planning-rules");
    box.appendChild(el("h4", null, T.rules_title));
    var seen = {};
    hits.forEach(function (hit) {
      if (seen[hit.zone] || !hit.rules) return;
      seen[hit.zone] = true;
      var rule = el("div", "planning-rule");
      rule.appendChild(el("p", "planning-rule-zone", cfg.zones[hit.zone] || hit.zone));
      rule.appendChild(el("p", null, hit.rules[cfg.lang] || hit.rules.vi));
      if (hit.rules.ref) rule.appendChild(el("p", "muted small", T.reference + ": " + hit.rules.ref));
      box.appendChild(rule);
    });
    return box;
  }

  function reportForm(parcel, onDate) {
    var form = reportTemplate.cloneNode(true);
    form.removeAttribute("id");
    form.hidden = false;
    form.elements.geometry.value = JSON.stringify(parcel.geometry);
    if (parcel.crs && parcel.crs !== "EPSG:4326") {
      form.elements.crs.disabled = false;
      form.elements.crs.value = parcel.crs;
    }
    form.elements.date.value = onDate;
    return form;
  }

  function showResults(list, parcels) {
    resultsBody.textContent = "";
    list.forEach(function (result, i) {
      var parcel = parcels[i] || parcels[0];
      var isArea = result.parcel_area_m2 > 0;
      var section = el("section", "planning-result");
      var title = list.length > 1 ? T.parcel + " " + (i + 1) : T.parcel;
      section.appendChild(el("h3", null, title));
      var facts = el("p", "muted");
      facts.textContent = (isArea ? T.area + ": " + number(result.parcel_area_m2) + " m²" : T.point) +
        " · " + T.as_of + " " + result.on_date + " · " + T.data_version + " " + result.data_version;
      section.appendChild(facts);
      if (result.hits && result.hits.length) {
        // The table scrolls inside its box on narrow screens, not the page sideways.
        var wrap = el("div", "planning-table-wrap");
        wrap.appendChild(hitsTable(result.hits, isArea));
        section.appendChild(wrap);
        section.appendChild(rulesList(result.hits));
      } else {
        section.appendChild(el("p", "planning-no-hit", T.no_hit));
        var nearest = el("p", "planning-nearest");
        if (result.nearest) {
          var parts = T.nearest.split("%(name)s");
          nearest.appendChild(document.createTextNode(parts[0]));
          nearest.appendChild(siteLink(result.nearest));
          nearest.appendChild(document.createTextNode(
            fill(parts[1] || "", { distance: number(result.nearest.distance_m) })));
        } else {
          nearest.textContent = T.no_relic;
        }
        section.appendChild(nearest);
      }
      section.appendChild(reportForm(parcel, result.on_date));
      resultsBody.appendChild(section);
    });
    results.hidden = false;
    results.setAttribute("data-state", "done");
    $("results-title").focus();
  }

  // --- 1. drawing ------------------------------------------------------------------

  map.pm.setLang("planning", { tooltips: {
    placeMarker: T.draw_marker, firstVertex: T.draw_first_vertex,
    continueLine: T.draw_continue, finishPoly: T.draw_finish, finishLine: T.draw_finish
  } }, "en");
  map.pm.setGlobalOptions({ pathOptions: PARCEL_STYLE });

  function startDrawing(shape) {
    clearMessages();
    map.pm.disableDraw();
    drawing = true;
    map.closePopup();
    map.pm.enableDraw(shape, { snappable: true, tooltips: true, continueDrawing: false });
  }

  // Zones and relics keep their popups, but not while a shape is being drawn over them.
  map.on("popupopen", function (e) { if (drawing) map.closePopup(e.popup); });
  map.on("pm:drawend", function () { drawing = false; });
  map.on("pm:create", function (e) {
    drawing = false;
    drawn.clearLayers();
    map.removeLayer(e.layer);
    drawn.addLayer(e.layer);
    var geometry = e.layer.toGeoJSON().geometry;
    check(geometry, "EPSG:4326", [{ geometry: geometry, crs: null }]);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && drawing) map.pm.disableDraw();
  });

  $("draw-polygon").addEventListener("click", function () { startDrawing("Polygon"); });
  $("draw-point").addEventListener("click", function () { startDrawing("Marker"); });
  $("draw-clear").addEventListener("click", function () {
    map.pm.disableDraw();
    drawn.clearLayers();
    clearMessages();
    results.hidden = true;
    results.removeAttribute("data-state");
    resultsBody.textContent = "";
  });

  // --- 2. typed coordinates ------------------------------------------------------------

  /* One line → [x, y] as GeoJSON wants it in `crs` (lon/lat; easting/northing). */
  function parseLine(line, number_, crs) {
    var parts = /[;\t]/.test(line)
      ? line.split(/[;\t]+/).map(function (p) { return p.replace(/\s+/g, "").replace(",", "."); })
      : line.split(/[\s,]+/);
    parts = parts.filter(function (p) { return p !== ""; });
    var a = Number(parts[0]), b = Number(parts[1]);
    if (parts.length !== 2 || !isFinite(a) || !isFinite(b)) {
      throw new Error(fill(T.err_line, { line: number_ }));
    }
    if (crs === "EPSG:4326") {
      // People write latitude first; a first value beyond ±90 can only be a longitude.
      if (Math.abs(a) > 90 && Math.abs(b) <= 90) return [a, b];
      if (Math.abs(a) > 90 || Math.abs(b) > 180) throw new Error(fill(T.err_latlon, { line: number_ }));
      return [b, a];
    }
    // VN-2000 survey tables give X = northing (7 digits) and Y = easting; accept either order.
    var aNorth = Math.abs(a) >= NORTHING_MIN, bNorth = Math.abs(b) >= NORTHING_MIN;
    if (aNorth === bNorth) throw new Error(fill(T.err_vn2000, { line: number_ }));
    return aNorth ? [b, a] : [a, b];
  }

  function typedGeometry(text, crs) {
    var points = [];
    text.split(/\r?\n/).forEach(function (line, i) {
      if (line.trim()) points.push(parseLine(line.trim(), i + 1, crs));
    });
    var first = points[0], last = points[points.length - 1];
    if (points.length > 3 && first[0] === last[0] && first[1] === last[1]) points.pop();
    if (points.length === 0) throw new Error(T.err_empty);
    if (points.length === 1) return { type: "Point", coordinates: points[0] };
    if (points.length === 2) throw new Error(T.err_two);
    return { type: "Polygon", coordinates: [points.concat([points[0]])] };
  }

  $("coords-form").addEventListener("submit", function (e) {
    e.preventDefault();
    var crs = $("coords-crs").value;
    var geometry;
    try {
      geometry = typedGeometry($("coords-text").value, crs);
    } catch (error) {
      showError(error.message);
      $("coords-text").focus();
      return;
    }
    map.pm.disableDraw();
    drawn.clearLayers();
    if (crs === "EPSG:4326") {  // lon/lat can be drawn as is; VN-2000 is the server's to transform
      var layer = parcelLayer(geometry);
      drawn.addLayer(layer);
      map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [24, 24] });
    }
    check(geometry, crs, [{ geometry: geometry, crs: crs }]);
  });

  // --- 3. uploaded file ----------------------------------------------------------------

  function showCrsNote(crs) {
    var note = el("p", "muted small planning-crs-note", T.file_crs + ": " + crs.crs);
    (crs.notes || []).forEach(function (text) { note.appendChild(el("span", "block", text)); });
    statusBox.textContent = "";
    statusBox.appendChild(note);
  }

  $("file-form").addEventListener("submit", function (e) {
    e.preventDefault();
    clearMessages();
    var file = $("parcel-file").files[0];
    if (!file) { showError(T.err_no_file); return; }
    if (file.size > cfg.max_upload_bytes) { showError(T.err_too_big); return; }
    var data = new FormData();
    data.append("file", file);
    data.append("csrf_token", reportTemplate.elements.csrf_token.value);
    statusBox.textContent = T.reading_file;
    fetch(cfg.upload_url + "?lang=" + encodeURIComponent(cfg.lang), {
      method: "POST", body: data,
      headers: { "Accept": "application/json", "Accept-Language": cfg.lang }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.parcels) throw new Error(body.message || T.err_network);
        map.pm.disableDraw();
        drawn.clearLayers();
        var layer = parcelLayer(body.parcels);
        drawn.addLayer(layer);
        map.fitBounds(layer.getBounds(), { maxZoom: 17, padding: [24, 24] });
        var parcels = body.parcels.features.map(function (f) {
          return { geometry: f.geometry, crs: null };
        });
        return check(body.parcels, "EPSG:4326", parcels).then(function () {
          if (errorBox.hidden) showCrsNote(body.crs);
        });
      });
    }).catch(function (error) {
      showError(error instanceof TypeError ? T.err_network : error.message);
    });
  });
})();
