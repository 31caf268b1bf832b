// Service worker of the 報到 page (served at /unit/courses/checkin-sw.js, so its scope is
// /unit/courses/). It answers only the 報到 page, its data and the static files: from the network
// when there is one (keeping a copy), from the copy when there is none. Scans are not sent from
// here: the page queues them in IndexedDB and sends them itself, each with its own UUID.
var CACHE = "inservice-checkin-v1";
var CHECKIN = /^\/unit\/courses\/\d+\/checkin\/(data\.json)?$/;

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.method !== "GET") return;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (!CHECKIN.test(url.pathname) && url.pathname.indexOf("/static/") !== 0) return;
  event.respondWith(
    fetch(request).then(
      function (response) {
        // Signed out (a sign-in redirect, 401 or 403 from the page or its data): the copy of the
        // participants is deleted, so it is never served to a session that is not the clerk's.
        if (CHECKIN.test(url.pathname) && (response.redirected || response.type === "opaqueredirect"
            || response.status === 401 || response.status === 403)) {
          return caches.delete(CACHE).then(function () { return response; });
        }
        // An error page is never kept in place of the page.
        // The body is read whole before it replaces the copy: a put whose body is cut off half
        // way (the network lost) makes Chromium drop the entry, and the copy with it.
        if (response.ok && !response.redirected && !url.search) {
          var copy = response.clone();
          copy.blob().then(function (body) {
            var whole = new Response(body, { status: copy.status, statusText: copy.statusText, headers: copy.headers });
            return caches.open(CACHE).then(function (cache) { return cache.put(url.pathname, whole); });
          }).catch(function () {});
        }
        return response;
      },
      function () {
        return caches.open(CACHE).then(function (cache) {
          return cache.match(url.pathname, { ignoreVary: true }).then(function (hit) {
            return hit || Response.error();
          });
        });
      }
    )
  );
});
