/*
 * The shape of a landscape, facility or intangible heritage (templates/kinds/_shape.html)
 * on the map HeritageMap.init made (heritage-map.js), configured by
 * <script id="kinds-map-config">: {mode: "polygon" | "either", geometry, text}.
 *
 * A polygon is drawn ("Draw an outline") or its corners edited ("Edit the corners") with
 * Leaflet-Geoman; on submit the hidden field "geometry" carries it as GeoJSON (lon/lat)
 * when it changed (the server keeps the stored shape otherwise). In mode "either" (a
 * facility), choosing "a point" lets a tap on the map or a drag of the marker write WGS 84
 * degrees into #lat/#lon; typing there moves the marker. Everything works without this
 * script through the file input and the typed coordinates. The form gets
 * data-ready="1" once the map is set up; browser tests wait on it.
 */
(function () {
  "use strict";

  var tag = document.getElementById("kinds-map-config");
  var map = window.HeritageMap && window.HeritageMap.map;
  if (!tag || !map || !window.L) return;
  var cfg = JSON.parse(tag.textContent);
  var T = cfg.text;
  var $ = function (id) { return document.getElementById(id); };
  var form = $("kinds-form");
  var field = $("kinds-geometry");
  var stateBox = $("kinds-shape-state");
  var STYLE = { color: "#1565c0", weight: 3, fillOpacity: 0.2 };
  var original = cfg.geometry && cfg.geometry.type !== "Point" ? cfg.geometry : null;
  var working = null;
  var marker = null;
  var changed = !!field.value;
  var editing = false;

  function pointMode() {
    var chosen = document.querySelector('input[name="shape_mode"]:checked');
    return cfg.mode === "either" && chosen && chosen.value === "point";
  }

  function sync() {
    if (working && changed) field.value = JSON.stringify(working.toGeoJSON(false).geometry);
    else if (!changed) field.value = "";
    stateBox.textContent = pointMode() ? "" : (!working ? T.no_shape : (changed ? T.changed : T.kept));
    form.setAttribute("data-changed", changed ? "1" : "0");
  }

  function stopEditing() {
    if (working && working.pm) working.pm.disable();
    editing = false;
    $("kinds-edit").setAttribute("aria-pressed", "false");
  }

  function setWorking(geometry, isChange) {
    stopEditing();
    map.pm.disableDraw();
    if (working) map.removeLayer(working);
    working = null;
    if (geometry) {
      working = L.geoJSON(geometry, { style: function () { return STYLE; } }).getLayers()[0];
      working.addTo(map);
      working.on("pm:edit pm:markerdragend pm:vertexremoved pm:vertexadded", function () {
        changed = true; sync();
      });
    }
    changed = isChange;
    sync();
  }

  map.pm.setLang("kinds", { tooltips: {
    firstVertex: T.draw_first_vertex, continueLine: T.draw_continue,
    finishPoly: T.draw_finish, finishLine: T.draw_finish
  } }, "en");
  map.pm.setGlobalOptions({ pathOptions: STYLE, snappable: true, snapDistance: 20,
                            allowSelfIntersection: false });

  $("kinds-draw").addEventListener("click", function () {
    stopEditing();
    map.closePopup();
    map.pm.enableDraw("Polygon", { snappable: true, snapDistance: 20, tooltips: true,
                                   continueDrawing: false });
  });
  $("kinds-edit").addEventListener("click", function () {
    if (!working) return;
    if (editing) { stopEditing(); return; }
    map.pm.disableDraw();
    working.pm.enable({ snappable: true, allowSelfIntersection: false });
    editing = true;
    this.setAttribute("aria-pressed", "true");
  });
  $("kinds-reset").addEventListener("click", function () { setWorking(original, false); });
  map.on("pm:create", function (e) {
    map.removeLayer(e.layer);
    setWorking(e.layer.toGeoJSON(false).geometry, true);
  });

  // --- a facility's point ------------------------------------------------------------------

  var lat = $("lat");
  var lon = $("lon");

  function place(latlng) {
    if (marker) { marker.setLatLng(latlng); return; }
    marker = L.marker(latlng, { draggable: true, keyboard: true, title: T.marker, alt: T.marker,
                                icon: L.divIcon({ className: "editor-pin editor-pin-edit",
                                                  iconSize: [22, 22], iconAnchor: [11, 11],
                                                  html: "<span></span>" }) }).addTo(map);
    marker.on("dragend", function () { write(marker.getLatLng()); });
  }

  function write(latlng) {
    lat.value = String(Math.round(latlng.lat * 1e7) / 1e7);
    lon.value = String(Math.round(latlng.lng * 1e7) / 1e7);
    var wgs84 = document.querySelector('input[name="position_mode"][value="wgs84"]');
    if (wgs84) wgs84.checked = true;
  }

  if (cfg.mode === "either" && lat && lon) {
    map.on("click", function (e) {
      if (!pointMode()) return;
      place(e.latlng);
      write(e.latlng);
    });
    var typed = function () {
      var y = parseFloat(String(lat.value).replace(",", "."));
      var x = parseFloat(String(lon.value).replace(",", "."));
      if (isFinite(x) && isFinite(y) && Math.abs(y) <= 90 && Math.abs(x) <= 180) {
        place(L.latLng(y, x));
        map.panTo([y, x]);
      }
    };
    lat.addEventListener("change", typed);
    lon.addEventListener("change", typed);
    Array.prototype.forEach.call(document.querySelectorAll('input[name="shape_mode"]'),
      function (radio) { radio.addEventListener("change", sync); });
    if (cfg.geometry && cfg.geometry.type === "Point") {
      place(L.latLng(cfg.geometry.coordinates[1], cfg.geometry.coordinates[0]));
      map.setView(marker.getLatLng(), 18, { animate: false });
    }
  }

  // --- a file: shown on the map before saving -----------------------------------------------

  var fileInput = $("kinds-file");
  fileInput.addEventListener("change", function () {
    var file = fileInput.files[0];
    if (!file || !cfg.upload_url) return;
    if (file.size > 5 * 1024 * 1024) { stateBox.textContent = T.err_too_big; return; }
    var data = new FormData();
    data.append("file", file);
    data.append("csrf_token", form.elements.csrf_token.value);
    stateBox.textContent = T.reading_file;
    fetch(cfg.upload_url + "?lang=" + encodeURIComponent(cfg.lang), {
      method: "POST", body: data, headers: { "Accept": "application/json" }
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (body) {
        if (!response.ok || !body.geometry) throw new Error(body.message || T.err_network);
        fileInput.value = "";  // what is on the map is what will be saved
        if (body.geometry.type === "Point" && cfg.mode === "either") {
          var radio = document.querySelector('input[name="shape_mode"][value="point"]');
          if (radio) radio.checked = true;
          var at = L.latLng(body.geometry.coordinates[1], body.geometry.coordinates[0]);
          place(at);
          write(at);
          map.setView(at, 18, { animate: false });
          sync();
        } else {
          setWorking(body.geometry, true);
          map.fitBounds(working.getBounds(), { maxZoom: 18, padding: [24, 24], animate: false });
        }
        stateBox.textContent = [T.changed, T.file_crs + ": " + body.crs.crs]
          .concat(body.crs.notes || []).concat(body.warnings || []).join(" ");
      });
    }).catch(function (error) {
      stateBox.textContent = error instanceof TypeError ? T.err_network : error.message;
    });
  });

  form.addEventListener("submit", function () { map.pm.disableDraw(); sync(); });

  $("kinds-draw-buttons").hidden = false;
  var shown = field.value ? JSON.parse(field.value) : original;
  setWorking(shown, !!field.value);
  if (working) map.fitBounds(working.getBounds(), { maxZoom: 18, padding: [24, 24], animate: false });
  form.setAttribute("data-ready", "1");
})();
