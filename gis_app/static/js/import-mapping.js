/*
 * The mapping step (templates/imports/mapping.html). Without JavaScript the official
 * presses "Show the values of the chosen columns" after changing a column; with it,
 * changing the column of a coded field (data-vocab="1") does that at once, and choosing
 * a preset in the list reloads the page with it.
 */
(function () {
  "use strict";
  var form = document.getElementById("mapping-form");
  if (!form) return;
  var refresh = form.querySelector('button[name="action"][value="refresh"]');
  form.querySelectorAll('select[data-vocab="1"]').forEach(function (select) {
    select.addEventListener("change", function () {
      if (refresh && form.requestSubmit) form.requestSubmit(refresh);
    });
  });
  var preset = document.getElementById("preset");
  if (preset && preset.form) {
    preset.addEventListener("change", function () { preset.form.submit(); });
  }
})();
