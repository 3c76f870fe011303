// Outbox: "Copy link" beside a one-time link, so an admin can pass it on by hand. Without
// JavaScript the link stays in its read-only box, ready to select; the button needs this.
// What it says comes from the button (data-copied, data-selected), in the page's language.
(function () {
  "use strict";
  var buttons = document.querySelectorAll("button[data-copy]");

  function say(button, words) {
    var status = document.getElementById(button.getAttribute("data-copy") + "-status");
    if (status) status.textContent = words;
  }

  function copyBySelecting(field) {
    field.focus();
    field.select();
    return document.execCommand && document.execCommand("copy");
  }

  Array.prototype.forEach.call(buttons, function (button) {
    var field = document.getElementById(button.getAttribute("data-copy"));
    if (!field) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var copied = navigator.clipboard && window.isSecureContext
        ? navigator.clipboard.writeText(field.value)
        : Promise.reject(new Error("no clipboard"));
      copied.catch(function () {
        if (!copyBySelecting(field)) throw new Error("not copied");
      }).then(function () {
        say(button, button.getAttribute("data-copied") || "Link copied.");
      }, function () {
        field.select();
        say(button, button.getAttribute("data-selected") ||
          "Selected: copy it with your keyboard or menu.");
      });
    });
  });
})();
