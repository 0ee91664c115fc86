/*
 * Polling a background job's JSON (gis_app/services/jobs.py: status, done, total,
 * percent, finished, ...) for the pages that wait on one (import-job.js, report-pdf.js).
 * HeritageJob.poll(url, onJob, delay): GET `url` after `delay` ms, hand the job to
 * onJob(job), and ask again every second until it has finished (every 3 s while the
 * server does not answer).
 */
(function () {
  "use strict";
  function poll(url, onJob, delay) {
    window.setTimeout(function () {
      fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
          return response.json();
        })
        .then(function (job) {
          onJob(job);
          if (!job.finished) poll(url, onJob, 1000);
        })
        .catch(function () { poll(url, onJob, 3000); });
    }, delay || 0);
  }
  window.HeritageJob = { poll: poll };
})();
