// Plan forms: drafts saved as the user goes, and a warning before the idle session ends.
// The server decides every window; this script only saves drafts and keeps the session alive.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosave]");
  if (!form) {
    return;
  }
  var status = document.getElementById("autosave-status");
  var warning = document.getElementById("session-warning");
  var extend = document.getElementById("session-extend");
  var sessionMs = parseInt(form.getAttribute("data-session-seconds"), 10) * 1000;
  var warnBeforeMs = 2 * 60 * 1000;
  var warnTimer = null;
  var saveTimer = null;

  function say(text) {
    if (status) {
      status.textContent = text;
    }
  }

  function armWarning() {
    if (warnTimer) {
      clearTimeout(warnTimer);
    }
    if (warning) {
      warning.hidden = true;
    }
    warnTimer = setTimeout(function () {
      if (warning) {
        warning.hidden = false;
        warning.focus();
      }
    }, Math.max(sessionMs - warnBeforeMs, 1000));
  }

  // The form holds <button name="action">, which shadows form.action (a RadioNodeList, not the URL):
  // read the attribute instead.
  var target = form.getAttribute("action") || window.location.pathname;

  function saveDraft() {
    saveTimer = null;
    var data = new FormData(form);
    data.set("action", "draft");
    say("草稿儲存中…");
    fetch(target, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-Autosave": "1" },
    })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (type.indexOf("application/json") === -1) {
          throw new Error("not a draft answer");
        }
        return response.json().then(function (body) {
          say(body.message || "");
          if (response.ok) {
            armWarning();
          }
        });
      })
      .catch(function () {
        say("草稿未能自動儲存，請稍後按「儲存草稿」。");
      });
  }

  // Typing fires "input" on every key, a choice fires "change": both wait for a pause, then save once.
  function schedule() {
    if (saveTimer) {
      clearTimeout(saveTimer);
    }
    saveTimer = setTimeout(saveDraft, 1500);
  }
  form.addEventListener("input", schedule);
  form.addEventListener("change", schedule);

  form.addEventListener("submit", function () {
    if (saveTimer) {
      clearTimeout(saveTimer);
    }
  });

  if (extend) {
    extend.addEventListener("click", function () {
      fetch(form.getAttribute("data-keepalive-url"), { credentials: "same-origin" }).then(function (response) {
        if (response.ok) {
          armWarning();
          say("已延長登入時間。");
        }
      });
    });
  }
  armWarning();
});
