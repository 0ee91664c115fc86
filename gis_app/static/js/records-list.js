// The register list: "choose all" ticks every relic shown (the form works without it).
(function () {
  "use strict";
  var all = document.getElementById("choose-all");
  if (!all) { return; }
  all.addEventListener("change", function () {
    document.querySelectorAll('input[name="relic"]').forEach(function (box) {
      box.checked = all.checked;
    });
  });
})();
