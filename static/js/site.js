// Move focus to an error summary so screen-reader and keyboard users hear what went wrong first.
document.addEventListener("DOMContentLoaded", function () {
  var summary = document.querySelector(".error-summary");
  if (summary) {
    summary.focus();
    return;
  }
  // After a search, the result count (研習課程查詢): the answer is read out first.
  var result = document.querySelector("[data-focus-on-load]");
  if (result) {
    result.focus();
  }
});
