// Frontline Trainer's service worker. It does two things only: show the notifications the
// server pushes, and say "you are offline" when a page cannot be reached. It keeps no copy of
// any page: people share devices, and a stored page could show one person's training to the
// next.
"use strict";

var OFFLINE_PAGE = [
  "<!doctype html>",
  '<html lang="en"><head><meta charset="utf-8">',
  '<meta name="viewport" content="width=device-width, initial-scale=1">',
  "<title>Offline · Frontline Trainer</title>",
  '<link rel="stylesheet" href="/static/style.css"></head>',
  '<body><main id="main"><h1>You are offline</h1>',
  "<p>Frontline Trainer needs a connection. Check your Wi-Fi or mobile data, then try again.</p>",
  '<p><a class="button primary" href="">Try again</a></p>',
  "</main></body></html>"
].join("\n");

self.addEventListener("install", function () {
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("push", function (event) {
  var data = {};
  if (event.data) {
    try {
      data = event.data.json();
    } catch (error) {
      data = {body: event.data.text()};
    }
  }
  event.waitUntil(self.registration.showNotification(data.title || "Frontline Trainer", {
    body: data.body || "",
    tag: data.tag || undefined,
    icon: "/static/icons/icon-192.png",
    badge: "/static/icons/badge-96.png",
    data: {url: data.url || "/"}
  }));
});

self.addEventListener("notificationclick", function (event) {
  event.notification.close();
  var url = new URL((event.notification.data && event.notification.data.url) || "/",
                    self.location.origin);
  if (url.origin !== self.location.origin) url = new URL("/", self.location.origin);
  event.waitUntil(self.clients.openWindow(url.href));
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  if (request.mode !== "navigate" || request.method !== "GET") return;  // the browser's own way
  event.respondWith(fetch(request).catch(function () {
    return new Response(OFFLINE_PAGE, {
      status: 503,
      headers: {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store"}
    });
  }));
});
