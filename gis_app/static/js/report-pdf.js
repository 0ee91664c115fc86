/*
 * The annual report's PDF being made (templates/officials/report_pdf_job.html). Polls
 * the job's JSON (data-status-url: status, percent, finished) every second, shows the
 * percentage, and once the job has finished opens data-pdf-url: the PDF, or the page
 * saying why it failed with a retry button. Without JavaScript the page refreshes
 * itself (<noscript> meta refresh) and has a plain link.
 */
(function () {
  "use strict";
  var root = document.getElementById("report-pdf-job");
  if (!root) return;
  var bar = document.getElementById("report-pdf-progress");
  var percent = document.getElementById("report-pdf-percent");
  var label = document.getElementById("report-pdf-status");
  var vi = (document.documentElement.lang || "vi").indexOf("vi") === 0;

  function poll() {
    fetch(root.getAttribute("data-status-url"), { credentials: "same-origin",
                                                  headers: { "Accept": "application/json" } })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (job) {
        bar.value = job.percent;
        bar.textContent = job.percent + " %";
        percent.textContent = String(job.percent);
        if (job.status === "running") {
          label.textContent = vi ? "Máy chủ đang tạo PDF." : "The server is making the PDF.";
        }
        root.setAttribute("data-job-status", job.status);
        if (job.finished) {
          window.location.replace(root.getAttribute("data-pdf-url"));
        } else {
          window.setTimeout(poll, 1000);
        }
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
