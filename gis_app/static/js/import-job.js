/*
 * Progress of a background import job (templates/imports/job.html). Polls the job's
 * JSON (data-status-url: status, done, total, percent, finished, page) every second
 * (job-poll.js), moves the progress bar, and opens the job's page once it has finished.
 * Without JavaScript the page refreshes itself (<noscript> meta refresh).
 */
(function () {
  "use strict";
  var root = document.getElementById("import-job");
  if (!root) return;
  var bar = document.getElementById("job-progress");
  var label = document.getElementById("job-progress-text");
  var vi = (document.documentElement.lang || "vi").indexOf("vi") === 0;
  var fmt = new Intl.NumberFormat(vi ? "vi-VN" : "en-GB");

  HeritageJob.poll(root.getAttribute("data-status-url"), function (job) {
    bar.value = job.percent;
    bar.textContent = job.percent + " %";
    if (job.total) {
      label.textContent = vi
        ? fmt.format(job.done) + " / " + fmt.format(job.total) + " đối tượng"
        : fmt.format(job.done) + " of " + fmt.format(job.total) + " features";
    }
    root.setAttribute("data-job-status", job.status);
    if (job.finished) window.location.assign(job.page);
  });
})();
