// 獎勵作業: refresh the progress of active runs every few seconds; reload when one ends.
// Without this script the page still works through its "重新整理進度" link.
(function () {
  var section = document.querySelector("[data-progress-url]");
  if (!section || !section.querySelector("[data-run]")) {
    return;
  }
  var url = section.getAttribute("data-progress-url");
  function update() {
    fetch(url, { credentials: "same-origin" })
      .then(function (response) { return response.json(); })
      .then(function (data) {
        var seen = {};
        data.active.forEach(function (run) {
          seen[run.id] = true;
          var item = section.querySelector('[data-run="' + run.id + '"]');
          if (!item) { return; }
          item.querySelector(".run-status").textContent = run.status;
          item.querySelector(".run-stage").textContent = run.stage;
          item.querySelector("progress").value = run.percent;
          item.querySelector("progress").textContent = run.percent + "%";
          item.querySelector(".run-percent").textContent = run.percent + "%";
          // 取消 is for a waiting run only: it goes once a worker has taken the run.
          var cancel = item.querySelector("form");
          if (cancel && !run.queued) {
            cancel.remove();
          }
          var unpicked = item.querySelector(".run-unpicked");
          if (unpicked) {
            unpicked.textContent = run.unpicked || "";
            unpicked.hidden = !run.unpicked;
          }
        });
        var ended = Array.prototype.some.call(section.querySelectorAll("[data-run]"), function (item) {
          return !seen[item.getAttribute("data-run")];
        });
        if (ended) {
          window.location.reload();
        } else {
          window.setTimeout(update, 3000);
        }
      })
      .catch(function () { window.setTimeout(update, 10000); });
  }
  window.setTimeout(update, 3000);
})();
