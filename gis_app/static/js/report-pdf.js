/*
 * The annual report's PDF being made (templates/officials/report_pdf_job.html). Polls
 * the job's JSON (data-status-url: status, percent, finished) every second
 * (job-poll.js), shows the percentage, and once the job has finished opens
 * data-pdf-url: the PDF, or the page saying why it failed with a retry button. Without
 * JavaScript the page refreshes itself (<noscript> meta refresh) and has a plain link.
 */
(function () {
  "use strict";
  var root = document.getElementById("report-pdf-job");
  if (!root) return;
  var bar = document.getElementById("report-pdf-progress");
  var percent = document.getElementById("report-pdf-percent");
  var label = document.getElementById("report-pdf-status");
  var vi = (document.documentElement.lang || "vi").indexOf("vi") === 0;

  HeritageJob.poll(root.getAttribute("data-status-url"), function (job) {
    bar.value = job.percent;
    bar.textContent = job.percent + " %";
    percent.textContent = String(job.percent);
    if (job.status === "running") {
      label.textContent = vi ? "Máy chủ đang tạo PDF." : "The server is making the PDF.";
    }
    root.setAttribute("data-job-status", job.status);
    if (job.finished) window.location.replace(root.getAttribute("data-pdf-url"));
  }, 500);
})();
