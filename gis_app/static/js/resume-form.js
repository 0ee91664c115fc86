// Puts back what an official typed into a form whose submission arrived without a valid
// session (see gis_app/web/form_safety.py): the page carries the values as JSON, keyed by
// field name; every form on the page that has those fields gets them.
(function () {
  "use strict";
  var source = document.getElementById("resumed-form");
  if (!source) { return; }
  var data;
  try { data = JSON.parse(source.textContent); } catch (e) { return; }
  var skip = { csrf_token: true, password: true };
  var forms = Array.prototype.slice.call(document.querySelectorAll("form"));
  var target = forms.filter(function (form) {
    return Object.keys(data).some(function (name) {
      return !skip[name] && name !== "form_token" && form.elements.namedItem(name);
    });
  })[0];
  if (!target) { return; }
  Object.keys(data).forEach(function (name) {
    if (skip[name]) { return; }
    var values = data[name];
    var fields = Array.prototype.slice.call(target.querySelectorAll("[name]")).filter(
      function (el) { return el.name === name; });
    var next = 0;
    fields.forEach(function (el) {
      if (el.type === "file") { return; }
      if (el.type === "checkbox" || el.type === "radio") {
        el.checked = values.indexOf(el.value) !== -1;
      } else if (el.tagName === "SELECT" && el.multiple) {
        Array.prototype.forEach.call(el.options, function (o) {
          o.selected = values.indexOf(o.value) !== -1;
        });
      } else if (next < values.length) {
        el.value = values[next];
        next += 1;
      }
    });
  });
  target.classList.add("resumed-form");
  var note = document.getElementById("resumed-note");
  if (note && target.previousElementSibling !== note) {
    target.parentNode.insertBefore(note.cloneNode(true), target).removeAttribute("id");
    note.hidden = true;
  }
  target.scrollIntoView({ block: "start" });
})();
