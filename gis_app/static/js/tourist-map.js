/*
 * The tourists' home map: search by name (without diacritics), filters (type, rank,
 * commune today or former, festivals this month), a card per relic and "near me".
 * Runs on top of heritage-map.js, which calls TouristMap.init(HeritageMap, map, config)
 * when config.tourist is set (gis_app/maps.py::build_map, web/public.py::index):
 *
 *   config.tourist = { api: "/api/sites", nearby: "/api/sites/nearby",
 *                      result_limit: 50, nearby_limit: 5, i18n: {...} }
 *
 * The form, status line and result list are server-rendered in templates/map.html
 * (#explore-form, #explore-status, #explore-results): without JavaScript the form
 * searches /sites. The relics layer is filtered through HeritageMap.setParams; the list
 * asks the same API without a bbox. Text from the data reaches the page only through
 * textContent.
 */
(function () {
  "use strict";

  var TouristMap = {};
  var FILTERS = ["q", "type", "rank", "commune", "festival_month"];
  var TYPING_DELAY_MS = 300;

  var el = window.HeritageMap.el;  // heritage-map.js is loaded first (gis_app/maps.py)

  function query(params) {
    return Object.keys(params).filter(function (k) {
      return params[k] !== "" && params[k] !== null && params[k] !== undefined;
    }).map(function (k) {
      return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]);
    }).join("&");
  }

  function t(i18n, key, values) {
    var s = i18n[key] || key;
    Object.keys(values || {}).forEach(function (k) { s = s.split("{" + k + "}").join(values[k]); });
    return s;
  }

  /* Shows the controls that need the script (heritage-map.js calls it before fitting
     the map, so that the map's size no longer changes once its layers load). */
  TouristMap.prepare = function () {
    Array.prototype.forEach.call(document.querySelectorAll("[data-needs-js]"), function (node) {
      node.hidden = false;
    });
  };

  TouristMap.init = function (HM, map, config) {
    var opts = config.tourist, i18n = opts.i18n || {}, lang = config.lang;
    var form = document.getElementById("explore-form");
    var statusNode = document.getElementById("explore-status");
    var list = document.getElementById("explore-results");
    var heading = document.getElementById("explore-results-title");
    var nearButton = document.getElementById("explore-near");
    var clearButton = document.getElementById("explore-clear");
    if (!form || !list) return;
    var typingTimer = null, listController = null, lastOpener = null, hereMarker = null;

    TouristMap.prepare();

    // Numbers the page's way: 1.250 m and 2,5 km in Vietnamese, 1,250 m and 2.5 km in English.
    var locale = lang === "vi" ? "vi-VN" : "en-GB";
    var metresFormat = new Intl.NumberFormat(locale, { maximumFractionDigits: 0 });
    var kmFormat = new Intl.NumberFormat(locale, { minimumFractionDigits: 1, maximumFractionDigits: 1 });
    function formatDistance(metres) {
      if (metres < 1000) return metresFormat.format(metres) + " m";
      return kmFormat.format(metres / 1000) + " km";
    }

    /* ---- the card (the relic's popup) ---- */
    function row(dl, label, value) {
      if (!value) return;
      dl.appendChild(el("dt", null, label));
      dl.appendChild(el("dd", null, value));
    }

    function card(props) {
      var root = el("article", "hm-card");
      var title = el("h2", "hm-card-title", props.name_vi);
      title.tabIndex = -1;
      title.lang = "vi";
      root.appendChild(title);
      if (lang !== "vi" && props.name_en) root.appendChild(el("p", "hm-card-name-en", props.name_en));
      if (props.photo && props.photo.url) {
        var figure = el("figure", "hm-card-photo");
        var img = el("img");
        img.src = props.photo.url;
        img.alt = t(i18n, "photo_of", { name: props.name_vi });
        img.loading = "lazy";
        img.width = 272; img.height = 153;
        figure.appendChild(img);
        var credit = [props.photo.credit, props.photo.licence].filter(Boolean).join(" · ");
        if (credit) figure.appendChild(el("figcaption", null, t(i18n, "photo_credit", { credit: credit })));
        root.appendChild(figure);
      }
      var dl = el("dl", "hm-card-facts");
      row(dl, i18n.type, (props.type_labels || []).join(", "));
      row(dl, i18n.rank, props.rank_label);
      row(dl, i18n.opening_hours, props.opening_hours);
      if (typeof props.distance_m === "number") {
        row(dl, i18n.distance, formatDistance(props.distance_m) + " (" + i18n.straight_line + ")");
      }
      if (dl.childNodes.length) root.appendChild(dl);
      if (props.description) root.appendChild(el("p", "hm-card-description", props.description));
      var links = el("div", "hm-card-links");
      var directions = el("a", "hm-card-directions", i18n.directions);
      directions.href = props.directions_url;
      directions.target = "_blank";
      directions.rel = "noopener noreferrer";
      directions.setAttribute("aria-label", i18n.directions + " – " + props.name_vi +
                              " (OpenStreetMap, " + i18n.new_window + ")");
      links.appendChild(directions);
      var geo = el("a", "hm-card-geo", i18n.open_in_app);
      geo.href = props.geo_uri;
      links.appendChild(geo);
      var page = el("a", "hm-site-link", i18n.open_site_page);
      page.href = props.url;
      links.appendChild(page);
      root.appendChild(links);
      return root;
    }
    HM.cards.sites = card;

    map.on("popupopen", function (e) {
      var node = e.popup.getElement();
      var content = node && node.classList.contains("hm-card-popup") &&
        node.querySelector(".leaflet-popup-content");
      if (content) {
        // A phone shows little map under the search panel: the card scrolls inside the
        // map's height so that its links stay reachable, then the map pans to it.
        content.style.maxHeight = Math.max(140, map.getSize().y - 90) + "px";
        e.popup.update();
      }
      var title = node && node.querySelector(".hm-card-title");
      if (title) title.focus({ preventScroll: true });
    });
    map.on("popupclose", function (e) {
      var node = e.popup.getElement();
      if (lastOpener && node && (node.contains(document.activeElement) ||
                                 document.activeElement === document.body)) {
        lastOpener.focus({ preventScroll: true });
      }
      lastOpener = null;
    });

    /* ---- showing a relic on the map ---- */
    function openFeature(feature, opener) {
      lastOpener = opener || null;
      var latlng = L.latLng(feature.geometry.coordinates[1], feature.geometry.coordinates[0]);
      var zoom = Math.max(map.getZoom(), 16);
      var open = function () {
        var marker = HM.featureLayer("sites", feature.id, feature);
        if (!marker) return;
        var loader = HM.loaders.sites;
        if (loader && loader.cluster) loader.cluster.zoomToShowLayer(marker, function () { marker.openPopup(); });
        else marker.openPopup();
      };
      if (map.getZoom() === zoom && map.getCenter().distanceTo(latlng) < 1) { open(); return; }
      map.once("moveend", open);
      map.flyTo(latlng, zoom, { duration: 0.6 });
    }

    /* ---- the list: search / filter results, or the nearest relics ---- */
    function setStatus(text, isError) {
      statusNode.textContent = text || "";
      statusNode.classList.toggle("explore-error", !!isError);
    }

    function showList(title, features, withDistance) {
      list.textContent = "";
      heading.textContent = title || "";
      heading.hidden = !title;
      features.forEach(function (feature) {
        var p = feature.properties;
        var li = el("li");
        var a = el("a", "explore-result", p.name_vi);
        a.href = p.url;
        a.lang = "vi";
        a.setAttribute("data-heritage-id", p.heritage_id);
        a.addEventListener("click", function (e) {
          if (e.ctrlKey || e.metaKey || e.shiftKey || e.altKey || e.button) return;
          e.preventDefault();
          openFeature(feature, a);
        });
        li.appendChild(a);
        var meta = [];
        if (withDistance) meta.push(formatDistance(p.distance_m));
        if (p.rank_label) meta.push(p.rank_label);
        if (meta.length) li.appendChild(el("span", "explore-meta", meta.join(" · ")));
        list.appendChild(li);
      });
      list.hidden = !features.length;
    }

    function currentParams() {
      var data = new FormData(form), params = {};
      FILTERS.forEach(function (k) { params[k] = (data.get(k) || "").toString().trim(); });
      return params;
    }

    function isEmpty(params) {
      return FILTERS.every(function (k) { return !params[k]; });
    }

    function fetchJson(url, controller) {
      return fetch(url, { credentials: "same-origin", signal: controller ? controller.signal : undefined,
                          headers: { Accept: "application/geo+json" } })
        .then(function (response) {
          return response.json().catch(function () { return {}; }).then(function (body) {
            if (!response.ok) throw new Error(body.message || ("HTTP " + response.status));
            return body;
          });
        });
    }

    function fitTo(features) {
      if (!features.length) return;
      var bounds = L.latLngBounds(features.map(function (f) {
        return [f.geometry.coordinates[1], f.geometry.coordinates[0]];
      }));
      map.fitBounds(bounds, { padding: [40, 40], maxZoom: 15 });
    }

    function update(fit) {
      var params = currentParams();
      HM.setParams("sites", params);
      map.getContainer().classList.toggle("hm-filtered", !isEmpty(params));
      if (listController) listController.abort();
      listController = null;
      if (isEmpty(params)) {
        showList("", [], false);
        setStatus("");
        return;
      }
      var controller = typeof AbortController !== "undefined" ? new AbortController() : null;
      listController = controller;
      setStatus(i18n.searching);
      fetchJson(opts.api + "?" + query(params) + "&limit=" + opts.result_limit, controller)
        .then(function (body) {
          if (listController !== controller) return;
          var features = body.features || [];
          showList(i18n.results, features, false);
          // More found than listed: the answer says how many (numberMatched).
          var total = typeof body.numberMatched === "number" ? body.numberMatched : 0;
          if (!features.length) setStatus(i18n.none_found);
          else if (total > features.length) {
            setStatus(t(i18n, "found_capped", { total: HM.formatCount(total, lang),
                                                shown: HM.formatCount(features.length, lang) }));
          } else setStatus(t(i18n, "found", { n: features.length }));
          if (fit) fitTo(features);
        })
        .catch(function (err) {
          if (err && err.name === "AbortError") return;
          showList("", [], false);
          setStatus(err.message || i18n.load_error, true);
        });
    }

    form.addEventListener("submit", function (e) {
      e.preventDefault();
      clearTimeout(typingTimer);
      update(true);
    });
    form.addEventListener("input", function (e) {
      if (e.target.name !== "q") return;
      clearTimeout(typingTimer);
      typingTimer = setTimeout(function () { update(false); }, TYPING_DELAY_MS);
    });
    form.addEventListener("change", function (e) {
      if (e.target.name === "q") return;
      clearTimeout(typingTimer);
      update(true);
    });
    if (clearButton) {
      clearButton.addEventListener("click", function () {
        form.reset();
        update(false);
        form.elements.q.focus();
      });
    }

    /* ---- near me ---- */
    function locationFailed() {
      setStatus(i18n.location_failed, true);
      nearButton.disabled = false;
    }

    function showNearby(lat, lon) {
      var params = currentParams();
      params.lat = lat.toFixed(6); params.lon = lon.toFixed(6); params.limit = opts.nearby_limit;
      fetchJson(opts.nearby + "?" + query(params))
        .then(function (body) {
          var features = body.features || [];
          nearButton.disabled = false;
          showList(i18n.nearest, features, true);
          setStatus(features.length ? i18n.nearest_note : i18n.none_found);
          if (hereMarker) map.removeLayer(hereMarker);
          hereMarker = L.circleMarker([lat, lon], {
            radius: 8, color: "#fff", weight: 3, fillColor: "#1a5fb4", fillOpacity: 1,
            interactive: false
          }).bindTooltip(i18n.you_are_here, { permanent: true, direction: "top" }).addTo(map);
          fitTo([{ geometry: { coordinates: [lon, lat] } }].concat(features.slice(0, 1)));
        })
        .catch(function (err) {
          nearButton.disabled = false;
          setStatus(err.message || i18n.load_error, true);
        });
    }

    if (nearButton) {
      nearButton.addEventListener("click", function () {
        if (!navigator.geolocation) { locationFailed(); return; }
        nearButton.disabled = true;
        setStatus(i18n.locating);
        navigator.geolocation.getCurrentPosition(function (pos) {
          showNearby(pos.coords.latitude, pos.coords.longitude);
        }, locationFailed, { enableHighAccuracy: false, timeout: 15000, maximumAge: 60000 });
      });
    }

    if (!isEmpty(currentParams())) update(true);  // e.g. the page was opened as /?q=da+hoa
    TouristMap.update = update;
    TouristMap.open = openFeature;
  };

  window.TouristMap = TouristMap;
})();
