/*
 * A relic's protection zones (/officials/relics/<id>/zones): the boundary of the chosen
 * zone is put on the map as an editable shape (Leaflet-Geoman): edit its corners, draw
 * a new one, or read one from a file (POST .../zones/upload). Corners snap to the
 * relic's other zones. On submit the form carries the shape as GeoJSON (lon/lat) in
 * the hidden field "geometry"; the server validates it and saves a new version.
 *
 * Needs: Leaflet (L), HeritageMap (heritage-map.js, initialised by the folium script),
 * Leaflet-Geoman, and <script id="zones-config"> (gis_app/web/zones.py). Everything
 * from the server or the user reaches the page through textContent. When the page is
 * ready, #zone-form gets data-ready="1"; browser tests wait on it.
 */
(function () {
  "use strict";

  var cfg = JSON.parse(document.getElementById("zones-config").textContent);
  var T = cfg.text;
  var map = window.HeritageMap && HeritageMap.map;
  var $ = function (id) { return document.getElementById(id); };
  var form = $("zone-form");
  var kind = $("zone-kind");
  var geometryField = $("zone-geometry");
  var stateBox = $("zone-shape-state");
  var errorBox = $("zone-client-error");
  var fileInput = $("zone-file");
  var WORKING_STYLE = { color: "#1565c0", weight: 3, fillOpacity: 0.15 };

  var context = {};   // zone kind -> L.Layer of the version in force (snap target)
  var working = null;  // the editable shape of the chosen zone
  var original = null;  // the chosen zone's boundary in force (GeoJSON geometry) or null
  var changed = false;
  var editing = false;

  function styleOf(zone) {
    return (cfg.styles && cfg.styles[zone]) || WORKING_STYLE;
  }

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = !message;
  }

  function polygonOf(geometry, style) {
    var layers = L.geoJSON(geometry, { style: function () { return style; } }).getLayers();
    return layers[0];
  }

  cfg.zones.forEach(function (z) {
    var layer = polygonOf(z.geometry, styleOf(z.zone));
    layer.bindTooltip(cfg.labels[z.zone] || z.zone, { sticky: true });
    context[z.zone] = layer;
  });

  function currentOf(zone) {
    for (var i = 0; i < cfg.zones.length; i++) {
      if (cfg.zones[i].zone === zone) return cfg.zones[i];
    }
    return null;
  }

  function syncField() {
    if (!working) {
      geometryField.value = "";
    } else if (!changed && original) {
      geometryField.value = JSON.stringify(original);  // exactly as stored
    } else {
      geometryField.value = JSON.stringify(working.toGeoJSON(false).geometry);
    }
    stateBox.textContent = !working ? T.no_boundary
      : (changed ? T.changed_boundary : T.current_boundary);
    form.setAttribute("data-changed", changed ? "1" : "0");
  }

  function markChanged() { changed = true; syncField(); }

  function stopEditing() {
    if (working && working.pm) working.pm.disable();
    editing = false;
    $("zone-edit").setAttribute("aria-pressed", "false");
  }

  function setWorking(geometry, isChange) {
    stopEditing();
    map.pm.disableDraw();
    if (working) map.removeLayer(working);
    working = geometry ? polygonOf(geometry, WORKING_STYLE) : null;
    if (working) {
      working.addTo(map);
      working.on("pm:edit pm:markerdragend pm:vertexremoved pm:vertexadded", markChanged);
    }
    changed = isChange;
    syncField();
  }

  /* The other zones of the relic stay on the map (and are snapped to); the chosen one
     is replaced by its editable copy. */
  function chooseZone(zone, keepGeometry) {
    Object.keys(context).forEach(function (k) {
      if (k === zone) map.removeLayer(context[k]);
      else if (!map.hasLayer(context[k])) context[k].addTo(map);
    });
    var current = currentOf(zone);
    original = current ? current.geometry : null;
    if (keepGeometry) setWorking(JSON.parse(keepGeometry), true);
    else setWorking(original, false);
    if (working) map.fitBounds(working.getBounds(), { maxZoom: 18, padding: [24, 24], animate: false });
  }

  // --- drawing and editing ------------------------------------------------------------

  map.pm.setLang("zones", { tooltips: {
    firstVertex: T.draw_first_vertex, continueLine: T.draw_continue,
    finishPoly: T.draw_finish, finishLine: T.draw_finish
  } }, "en");
  map.pm.setGlobalOptions({ pathOptions: WORKING_STYLE, snappable: true, snapDistance: 20,
                            allowSelfIntersection: false });

  $("zone-edit").addEventListener("click", function () {
    showError("");
    if (!working) return;
    if (editing) { stopEditing(); return; }
    map.pm.disableDraw();
    working.pm.enable({ snappable: true, snapDistance: 20, allowSelfIntersection: false });
    editing = true;
    this.setAttribute("aria-pressed", "true");
  });

  $("zone-draw").addEventListener("click", function () {
    showError("");
    stopEditing();
    map.closePopup();
    map.pm.enableDraw("Polygon", { snappable: true, snapDistance: 20, tooltips: true,
                                   continueDrawing: false });
  });

  $("zone-reset").addEventListener("click", function () {
    showError("");
    setWorking(original, false);
  });

  map.on("pm:create", function (e) {
    map.removeLayer(e.layer);
    setWorking(e.layer.toGeoJSON(false).geometry, true);
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape") map.pm.disableDraw();
  });

  kind.addEventListener("change", function () { chooseZone(kind.value, null); });

  // --- a file ----------------------------------------------------------------------------

  fileInput.addEventListener("change", function () {
    showError("");
    var file = fileInput.files[0];
    if (!file) return;
    if (file.size > cfg.max_upload_bytes) { showError(T.err_too_big); return; }
    var data = new FormData();
    data.append("file", file);
    data.append("csrf_token", form.elements.csrf_token.value);
    stateBox.textContent = T.reading_file;
    fetch(cfg.upload_url + "?lang=" + encodeURIComponent(cfg.lang), {
      method: "POST", body: data,
      headers: { "Accept": "application/json", "Accept-Language": cfg.lang }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.geometry) throw new Error(body.message || T.err_network);
        setWorking(body.geometry, true);
        map.fitBounds(working.getBounds(), { maxZoom: 18, padding: [24, 24], animate: false });
        fileInput.value = "";  // the shape on the map is what will be saved
        var note = [T.file_crs + ": " + body.crs.crs].concat(body.crs.notes || [])
          .concat(body.warnings || []);
        stateBox.textContent = T.changed_boundary + " " + note.join(" ");
      });
    }).catch(function (error) {
      syncField();
      showError(error instanceof TypeError ? T.err_network : error.message);
    });
  });

  form.addEventListener("submit", function () {
    map.pm.disableDraw();
    syncField();
  });

  $("zone-draw-buttons").hidden = false;
  chooseZone(kind.value, geometryField.value || null);
  form.setAttribute("data-ready", "1");
})();
