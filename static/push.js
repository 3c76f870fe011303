// Account page: turns on notifications in this browser. Registers the service worker,
// subscribes with the server's public key (VAPID) and stores the subscription. Everything
// else on the page works without JavaScript; only this button needs it.
(function () {
  "use strict";
  var box = document.getElementById("push");
  if (!box) return;
  var button = box.querySelector("button");
  var status = box.querySelector("[role=status]");

  if (!("serviceWorker" in navigator) || !("PushManager" in window) ||
      !("Notification" in window)) {
    status.textContent = "This browser cannot show notifications. " +
      "On an iPhone, add Frontline Trainer to your home screen and open it from there.";
    return;
  }
  status.textContent = "";  // it said this button needs JavaScript
  button.hidden = false;

  function keyBytes(base64url) {
    var base64 = base64url.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes;
  }

  async function turnOn() {
    button.disabled = true;
    status.textContent = "Turning notifications on…";
    try {
      if (await Notification.requestPermission() !== "granted") {
        throw new Error("notifications are blocked for this site in the browser's settings");
      }
      var registration = await navigator.serviceWorker.register("/service-worker.js");
      await navigator.serviceWorker.ready;
      var subscription = await registration.pushManager.getSubscription() ||
        await registration.pushManager.subscribe({
          userVisibleOnly: true,
          applicationServerKey: keyBytes(box.dataset.key)
        });
      var response = await fetch(box.dataset.url, {
        method: "POST",
        credentials: "same-origin",
        headers: {"Content-Type": "application/json", "X-CSRFToken": box.dataset.csrf},
        body: JSON.stringify(subscription)
      });
      if (!response.ok) {
        var answer = await response.json().catch(function () { return {}; });
        throw new Error(answer.error || "the server did not save it (" + response.status + ")");
      }
      window.location.assign(box.dataset.next);
    } catch (error) {
      status.textContent = "Notifications could not be turned on: " +
        (error && error.message ? error.message : error) + ".";
      button.disabled = false;
    }
  }

  button.addEventListener("click", turnOn);
})();
