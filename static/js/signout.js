// Sign-out on a phone that was used for 報到 (courses/checkin.html, static/js/checkin.js): the
// page keeps the course's participant tokens and masked names in Cache Storage and its scan queue
// in IndexedDB. Before the portal's sign-out form is sent, this script sends any queued scans;
// when none are left it deletes the copy, and when some are still queued (offline) it keeps them
// and asks: the clerk may stay, or sign out anyway and lose them. Loaded on every signed-in page.
(function () {
  "use strict";
  var script = document.currentScript;
  var logoutPath = script && script.dataset.logoutUrl;
  if (!logoutPath) return;

  var CACHE = "inservice-checkin-v1";
  var DB_NAME = "inservice-checkin";

  // The queue's database only if it exists: opening a missing one must not create it.
  function openQueue() {
    return new Promise(function (resolve) {
      if (!window.indexedDB) return resolve(null);
      var request = indexedDB.open(DB_NAME);
      request.onupgradeneeded = function () { request.transaction.abort(); };
      request.onsuccess = function () {
        var db = request.result;
        if (!db.objectStoreNames.contains("queue")) { db.close(); return resolve(null); }
        resolve(db);
      };
      request.onerror = function () { resolve(null); };
    });
  }
  function all(db) {
    return new Promise(function (resolve) {
      var request = db.transaction("queue", "readonly").objectStore("queue").getAll();
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { resolve([]); };
    });
  }
  function remove(db, ids) {
    return new Promise(function (resolve) {
      var tx = db.transaction("queue", "readwrite");
      ids.forEach(function (id) { tx.objectStore("queue").delete(id); });
      tx.oncomplete = tx.onerror = tx.onabort = function () { resolve(); };
    });
  }

  // Each course's scans to its own sync URL; those the server answered (recorded, already or
  // refused: it will never take them) leave the queue. Returns how many are still queued.
  function sendQueued(db, csrf) {
    return all(db).then(function (items) {
      var byUrl = {};
      items.forEach(function (item) { (byUrl[item.sync] = byUrl[item.sync] || []).push(item.scan); });
      return Promise.all(Object.keys(byUrl).map(function (url) {
        return fetch(url, {
          method: "POST",
          credentials: "same-origin",
          redirect: "manual",
          headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
          body: JSON.stringify({ scans: byUrl[url] }),
        }).then(function (response) {
          if (!response.ok) return;
          return response.json().then(function (answer) {
            var ids = (answer.results || []).map(function (r) { return r.id; });
            return remove(db, ids);
          });
        }).catch(function () {});
      }));
    }).then(function () {
      return all(db);
    }).then(function (rest) { return rest.length; });
  }

  // checkin.js marks a browser that opened a 報到 page; any other sign-out is sent at once, as
  // without this script (no waiting on IndexedDB for the great majority who never held a copy).
  var MARK = "inservice-checkin";
  function mayHoldCopy() {
    try { return localStorage.getItem(MARK) !== null; } catch (e) { return true; }
  }

  function clearCopy(db) {
    if (db) db.close();
    try { localStorage.removeItem(MARK); } catch (e) { /* storage off */ }
    var jobs = [];
    if (window.caches) jobs.push(caches.delete(CACHE).catch(function () {}));
    if (window.indexedDB) {
      jobs.push(new Promise(function (resolve) {
        // The 報到 page closes its own connection on versionchange, so this is not blocked long.
        var request = indexedDB.deleteDatabase(DB_NAME);
        request.onsuccess = request.onerror = function () { resolve(); };
      }));
    }
    return Promise.all(jobs);
  }

  function warn(form, count, db) {
    var old = document.getElementById("signout-warning");
    if (old) old.remove();
    var box = document.createElement("div");
    box.id = "signout-warning";
    box.className = "notice signout-warning";
    box.setAttribute("role", "alert");
    var text = document.createElement("p");
    text.textContent = "尚有 " + count + " 筆報到紀錄未送出，請連線後再登出，否則紀錄將遺失。";
    box.appendChild(text);
    var stay = document.createElement("button");
    stay.type = "button";
    stay.textContent = "暫不登出";
    var leave = document.createElement("button");
    leave.type = "button";
    leave.textContent = "仍要登出（捨棄未送出的紀錄）";
    stay.addEventListener("click", function () { db.close(); box.remove(); });
    leave.addEventListener("click", function () {
      clearCopy(db).then(function () { form.submit(); });
    });
    box.appendChild(stay);
    box.appendChild(document.createTextNode(" "));
    box.appendChild(leave);
    var main = document.getElementById("main") || document.body;
    main.insertBefore(box, main.firstChild);
    stay.focus();
  }

  function onSubmit(event) {
    var form = event.currentTarget;
    if (form.dataset.signoutChecked || !mayHoldCopy()) return;
    event.preventDefault();
    var csrf = (form.querySelector("input[name=csrfmiddlewaretoken]") || {}).value || "";
    var go = function () {
      form.dataset.signoutChecked = "1";
      form.submit();
    };
    openQueue().then(function (db) {
      if (!db) return clearCopy(null).then(go);
      return sendQueued(db, csrf).then(function (left) {
        if (left) return warn(form, left, db);
        return clearCopy(db).then(go);
      });
    }).catch(go);
  }

  Array.prototype.forEach.call(document.forms, function (form) {
    if (new URL(form.action, location.href).pathname === logoutPath) form.addEventListener("submit", onSubmit);
  });
})();
