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
        // A sign-in redirect or an error page is never kept in place of the page.
        if (response.ok && !response.redirected && !url.search) {
          var copy = response.clone();
          caches.open(CACHE).then(function (cache) {
            cache.put(url.pathname, copy);
          });
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
