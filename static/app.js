// Every page: when Frontline Trainer runs as an installed app, its service worker is there to
// say "you are offline" instead of the browser's error page. In a plain browser tab nothing
// happens here (notifications are turned on from the Account page).
(function () {
  "use strict";
  var installed = window.matchMedia && window.matchMedia("(display-mode: standalone)").matches;
  if (installed && "serviceWorker" in navigator) {
    navigator.serviceWorker.register("/service-worker.js");
  }
})();
