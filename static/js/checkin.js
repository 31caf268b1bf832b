// 報到 page (courses/checkin.html): reads participants' QR codes with the camera (jsQR), answers
// from the course's list kept on the phone, and queues every scan in IndexedDB until the server
// has it. Each scan carries its own UUID, so sending a scan again never records it twice.
(function () {
  "use strict";
  var form = document.getElementById("checkin");
  if (!form) return;

  var CACHE = "inservice-checkin-v1";
  var DB_NAME = "inservice-checkin";
  var RETRY_MS = 3000;
  var SAME_CODE_MS = 1500; // a code out of view this long and shown again is a new scan
  // Tells signout.js (synchronously) that this browser holds a check-in copy to send or clear.
  try { localStorage.setItem("inservice-checkin", "1"); } catch (e) { /* storage off: signout.js checks anyway */ }

  var dataUrl = form.dataset.dataUrl;
  var syncUrl = form.dataset.syncUrl;
  var courseCode = form.dataset.courseCode;
  var csrf = form.querySelector("input[name=csrfmiddlewaretoken]").value;
  var sessionSelect = document.getElementById("checkin-session");
  var result = document.getElementById("checkin-result");
  var queueStatus = document.getElementById("checkin-queue");
  var log = document.getElementById("checkin-log");
  var cameraButton = document.getElementById("checkin-camera");
  var canvas = document.getElementById("checkin-preview");

  var data = null;
  var byToken = {};
  var byNumber = {};
  var recorded = {}; // "session|number|kind" → HH:MM
  var db = null;
  var sending = false;
  var sent = 0;
  var lastCode = "";
  var lastCodeAt = 0;

  // ---------------------------------------------------------------- helpers
  function format(template, values) {
    return template.replace(/\{(\w+)\}/g, function (_, key) {
      return values[key] !== undefined ? values[key] : "";
    });
  }
  function hhmm(date) {
    return date.toLocaleTimeString("zh-TW", { hour: "2-digit", minute: "2-digit", hour12: false, timeZone: "Asia/Taipei" });
  }
  function stamp(date) {
    // 115年12月8日 09:01, as the server writes it (core.roc.format_roc_datetime), Asia/Taipei.
    var ymd = date.toLocaleDateString("en-CA", { timeZone: "Asia/Taipei" }).split("-");
    return (Number(ymd[0]) - 1911) + "年" + Number(ymd[1]) + "月" + Number(ymd[2]) + "日 " + hhmm(date);
  }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 0x100).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function kind() {
    return form.querySelector("input[name=kind]:checked").value;
  }
  function key(session, number, k) {
    return session + "|" + number + "|" + k;
  }
  function say(text, tone) {
    result.textContent = text;
    result.className = "checkin-result " + tone;
    var item = document.createElement("li");
    item.textContent = hhmm(new Date()) + " " + text;
    log.insertBefore(item, log.firstChild);
  }

  // ---------------------------------------------------------------- IndexedDB queue
  function openDb() {
    return new Promise(function (resolve, reject) {
      var request = indexedDB.open(DB_NAME, 1);
      request.onupgradeneeded = function () {
        request.result.createObjectStore("queue", { keyPath: "id" });
      };
      request.onsuccess = function () { resolve(request.result); };
      request.onerror = function () { reject(request.error); };
    });
  }
  function store(mode) {
    if (!db) throw new Error("queue closed");
    return db.transaction("queue", mode).objectStore("queue");
  }
  function queued() {
    return new Promise(function (resolve) {
      var request = store("readonly").getAll();
      request.onsuccess = function () {
        resolve(request.result.filter(function (scan) { return scan.sync === syncUrl; }));
      };
      request.onerror = function () { resolve([]); };
    });
  }
  function enqueue(scan) {
    return new Promise(function (resolve) {
      var request = store("readwrite").put(scan);
      request.onsuccess = request.onerror = function () { resolve(); };
    });
  }
  function dequeue(id) {
    return new Promise(function (resolve) {
      var request = store("readwrite").delete(id);
      request.onsuccess = request.onerror = function () { resolve(); };
    });
  }

  function showQueue(count, offline, note) {
    if (note) {
      queueStatus.textContent = note;
    } else if (offline) {
      queueStatus.textContent = "目前離線：" + count + " 筆待傳送，恢復連線後會自動送出。";
    } else {
      queueStatus.textContent = count
        ? "傳送中：" + count + " 筆待傳送。"
        : "連線正常，所有紀錄都已送出（本頁已送出 " + sent + " 筆）。";
    }
  }

  // ---------------------------------------------------------------- sending
  function flush() {
    if (sending || !db) return Promise.resolve();
    sending = true;
    return queued().then(function (scans) {
      if (!scans.length) {
        showQueue(0, false);
        return;
      }
      var body = JSON.stringify({ scans: scans.map(function (s) { return s.scan; }) });
      return fetch(syncUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, Accept: "application/json" },
        body: body,
        redirect: "manual",
      }).then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (response.type === "opaqueredirect" || type.indexOf("application/json") !== 0) {
          showQueue(scans.length, false, "登入已逾時：" + scans.length + " 筆待傳送。請重新登入後回到本頁，紀錄會自動送出。");
          return;
        }
        return response.json().then(function (answer) {
          if (!answer.results) {
            showQueue(scans.length, false, answer.message || "傳送失敗，稍後再試。");
            return;
          }
          var done = answer.results.map(function (item) {
            if (item.outcome === "refused") say(item.message, "bad");
            else if (item.outcome === "already") say(item.message, "warn");
            else sent += 1;
            return dequeue(item.id);
          });
          return Promise.all(done).then(function () {
            return queued().then(function (rest) { showQueue(rest.length, false); });
          });
        });
      }, function () {
        showQueue(scans.length, true);
      });
    }).then(function () { sending = false; }, function () { sending = false; });
  }

  // ---------------------------------------------------------------- answering a scan
  function record(participant, method, token) {
    var session = sessionSelect.value;
    var k = kind();
    var label = data.kinds[k];
    var done = recorded[key(session, participant.number, k)];
    if (done) {
      say(format(data.messages.already, { name: participant.name, time: done, kind: label }), "warn");
      return;
    }
    var now = new Date();
    recorded[key(session, participant.number, k)] = stamp(now);
    var scan = { id: uuid(), session: Number(session), kind: k, at: now.toISOString(), method: method };
    if (token) scan.token = token;
    else scan.number = participant.number;
    say(format(data.messages.recorded, { name: participant.name, kind: label, time: stamp(now) }), "ok");
    enqueue({ id: scan.id, sync: syncUrl, scan: scan }).then(flush);
  }

  function answer(token) {
    var participant = byToken[token];
    if (!participant) {
      var match = /^CI1:(.+)\.[0-9A-Z]{5}-[0-9A-Z]{5}:/.exec(token);
      if (match && match[1] !== courseCode) say(format(data.messages.other_course, { code: match[1] }), "bad");
      else say(data.messages.invalid_token, "bad");
      return;
    }
    if (!participant.admitted) {
      say(format(data.messages.not_admitted, { name: participant.name, status: participant.status }), "bad");
      return;
    }
    record(participant, "scan", token);
  }

  // ---------------------------------------------------------------- the camera
  var video = null;
  var stream = null;
  function frame() {
    if (!stream) return;
    if (video.readyState >= 2 && video.videoWidth) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
      var context = canvas.getContext("2d", { willReadFrequently: true });
      context.drawImage(video, 0, 0, canvas.width, canvas.height);
      var image = context.getImageData(0, 0, canvas.width, canvas.height);
      var code = window.jsQR(image.data, image.width, image.height, { inversionAttempts: "dontInvert" });
      if (code && code.data) {
        var now = Date.now();
        // The same code held in front of the camera is one scan, not one per frame.
        if (code.data !== lastCode || now - lastCodeAt > SAME_CODE_MS) answer(code.data);
        lastCode = code.data;
        lastCodeAt = now;
      }
    }
    window.setTimeout(frame, 200);
  }
  function startCamera() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      say("此瀏覽器無法使用相機，請改用人工查詢。", "bad");
      return;
    }
    navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false }).then(function (s) {
      stream = s;
      video = document.createElement("video");
      video.muted = true;
      video.setAttribute("playsinline", "");
      video.srcObject = s;
      video.play();
      canvas.hidden = false;
      cameraButton.textContent = "關閉相機";
      frame();
    }, function () {
      say("無法開啟相機（未允許使用或沒有相機），請改用人工查詢。", "bad");
    });
  }
  function stopCamera() {
    if (stream) stream.getTracks().forEach(function (track) { track.stop(); });
    stream = null;
    canvas.hidden = true;
    cameraButton.textContent = "開啟相機掃描";
  }
  cameraButton.addEventListener("click", function () {
    if (stream) stopCamera();
    else startCamera();
  });

  // ---------------------------------------------------------------- manual look-up
  function matches(query, participant) {
    query = query.replace(/\s+/g, "");
    if (!query) return false;
    var number = query.toUpperCase();
    if (number.length >= 4 && participant.number.replace("-", "").indexOf(number.replace("-", "")) !== -1) return true;
    var name = participant.name;
    if (query.length !== name.length) return false;
    for (var i = 0; i < name.length; i++) {
      if (name[i] !== "O" && name[i] !== query[i]) return false;
    }
    return true;
  }
  document.getElementById("checkin-find").addEventListener("click", function () {
    var list = document.getElementById("checkin-matches");
    var query = document.getElementById("checkin-query").value;
    list.textContent = "";
    var found = (data ? data.participants : []).filter(function (p) { return matches(query, p); });
    if (!found.length) {
      var none = document.createElement("li");
      none.textContent = "查無符合的報名者。";
      list.appendChild(none);
      return;
    }
    found.forEach(function (participant) {
      var item = document.createElement("li");
      var text = participant.name + "（報名序號 " + participant.number + (participant.school ? "，" + participant.school : "") + "，" + participant.status + "）";
      item.appendChild(document.createTextNode(text + " "));
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "記錄" + data.kinds[kind()] + "：" + participant.name + "（" + participant.number + "）";
      button.addEventListener("click", function () {
        if (!participant.admitted) {
          say(format(data.messages.not_admitted, { name: participant.name, status: participant.status }), "bad");
          return;
        }
        record(participant, "manual", null);
      });
      item.appendChild(button);
      list.appendChild(item);
    });
  });

  // ---------------------------------------------------------------- start-up
  function load(answer) {
    data = answer;
    byToken = {};
    byNumber = {};
    data.participants.forEach(function (p) {
      byToken[p.token] = p;
      byNumber[p.number] = p;
    });
    data.records.forEach(function (r) {
      recorded[key(r.session, r.number, r.kind)] = r.at;
    });
    var today = data.sessions.filter(function (s) { return s.today; })[0];
    if (today && !sessionSelect.dataset.chosen) sessionSelect.value = String(today.id);
  }
  sessionSelect.addEventListener("change", function () { sessionSelect.dataset.chosen = "1"; });

  function keepCopy() {
    // The page, its data and its assets, for the service worker to answer with when offline.
    // Each body is read whole before it replaces the copy: Chromium drops a cache entry whose
    // new body is cut off half way, so a network lost during this refresh would lose the copy.
    if (!window.caches) return Promise.resolve();
    var urls = [form.dataset.pageUrl, dataUrl].concat(form.dataset.assets.split(" "));
    return caches.open(CACHE).then(function (cache) {
      return Promise.all(urls.map(function (url) {
        return fetch(url, { credentials: "same-origin" }).then(function (response) {
          if (!response.ok || response.redirected) return;
          return response.blob().then(function (body) {
            var whole = new Response(body, { status: response.status, statusText: response.statusText, headers: response.headers });
            return cache.put(url, whole);
          });
        }).catch(function () {});
      }));
    }).then(function () {
      form.dataset.copy = "1";
    });
  }

  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register(form.dataset.swUrl).catch(function () {});
  }
  openDb().then(function (opened) {
    db = opened;
    // Sign-out deletes the queue's database (static/js/signout.js): let it.
    db.onversionchange = function () {
      db.close();
      db = null;
    };
    return queued();
  }).then(function (scans) {
    // Scans waiting from before a reload count as made, so a repeat is answered 已報到.
    scans.forEach(function (item) {
      var s = item.scan;
      var number = s.number;
      if (!number && s.token) {
        var m = /\.([0-9A-Z]{5}-[0-9A-Z]{5}):/.exec(s.token);
        number = m ? m[1] : "";
      }
      recorded[key(s.session, number, s.kind)] = stamp(new Date(s.at));
    });
    return fetch(dataUrl, { credentials: "same-origin", headers: { Accept: "application/json" } });
  }).then(function (response) {
    return response.json();
  }).then(function (answer) {
    load(answer);
    form.dataset.ready = "1";
    flush();
    keepCopy();
  }, function () {
    queueStatus.textContent = "無法載入報到名單，請在有網路時開啟本頁一次。";
  });
  window.setInterval(flush, RETRY_MS);
  window.addEventListener("online", flush);
})();
