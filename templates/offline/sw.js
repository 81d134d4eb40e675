/* 兜底通 service worker {{ version }}: the app opens with no signal.
   Precaches the page shells and the static files (their list and content hashes come from the app); pages are
   fetched network-first, and with no signal the matching shell answers, filled on the phone from its own pack.
   No page with anyone's data is ever cached here. */
"use strict";
const VERSION = "{{ version }}";
const CACHE = "doudi-" + VERSION;
const PRECACHE = {{ urls|tojson }};
const SHELL = (name) => "/offline/" + name;

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(PRECACHE)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches.keys()
      .then((names) => Promise.all(names.filter((n) => n.startsWith("doudi-") && n !== CACHE).map((n) => caches.delete(n))))
      .then(() => self.clients.claim())
  );
});

// Which shell stands in for a page when there is no signal (the page's own URL stays in the address bar).
function shellFor(path) {
  if (path === "/" || path === "/visits/") return SHELL("home");
  if (path === "/households/") return SHELL("households");
  if (/^\/households\/\d+\/visits\/new$/.test(path)) return SHELL("visit");
  if (/^\/households\/\d+$/.test(path)) return SHELL("household");
  if (path === "/relief/new") return SHELL("relief");
  if (path === "/candidates/report") return SHELL("report");
  if (path === "/scan/" || path === "/scan/lookup") return SHELL("scan");
  if (path === "/outbox") return SHELL("outbox");
  return SHELL("page");
}

async function page(request) {
  try {
    return await fetch(request);
  } catch (error) {  // no signal: the shell for this kind of page, from the cache
    const cache = await caches.open(CACHE);
    return (await cache.match(shellFor(new URL(request.url).pathname))) || (await cache.match(SHELL("page")));
  }
}

async function asset(request) {
  const cache = await caches.open(CACHE);
  const hit = await cache.match(request);
  if (hit) return hit;
  const response = await fetch(request);
  if (response.ok && new URL(request.url).searchParams.has("v")) cache.put(request, response.clone());  // hashed: immutable
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (request.mode === "navigate") event.respondWith(page(request));
  else if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/offline/")) event.respondWith(asset(request));
  // everything else (the API, photos, partials) goes to the network untouched: nothing personal is cached
});

// Signing out (or another account signing in) leaves only what every account shares: the shells and static files.
self.addEventListener("message", (event) => {
  if (event.data && event.data.type === "signed-out") {
    event.waitUntil(caches.keys().then((names) => Promise.all(
      names.filter((n) => !n.startsWith("doudi-")).map((n) => caches.delete(n))
    )));
  }
});
