// Answers in place. On a single-choice or true/false question, tapping a choice is the answer:
// it is sent at once and the feedback replaces the question, with no page load. "Check my
// answer" stays for questions with several right answers and for the keyboard. Without
// JavaScript the same form posts and loads the feedback page, so this only saves taps.
(function () {
  "use strict";

  let pointerAt = 0;
  let busy = false;

  function swap(html) {
    const next = new DOMParser().parseFromString(html, "text/html");
    const incoming = next.querySelector("main");
    const current = document.querySelector("main");
    if (!incoming || !current || !next.querySelector("[data-answer-page]")) {
      return false;
    }
    current.replaceChildren(
      ...Array.from(incoming.childNodes, function (node) {
        return document.importNode(node, true);
      }),
    );
    const bar = next.querySelector("[data-progress-bar]");
    const shownBar = document.querySelector("[data-progress-bar]");
    if (bar && shownBar) {
      shownBar.replaceWith(document.importNode(bar, true));
    }
    document.title = next.title;
    prepare();
    // The verdict is what a screen reader should say next, and what the eye should see.
    const verdict = document.getElementById("verdict");
    const target = verdict || current.querySelector("[role=alert]");
    if (target) {
      target.focus({ preventScroll: true });
      target.scrollIntoView({ block: "start" });
    }
    return true;
  }

  async function send(form) {
    if (busy) {
      return;
    }
    busy = true;
    const body = new FormData(form);
    form.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(form.action || window.location.href, {
        method: "POST",
        body: body,
        credentials: "same-origin",
      });
      const type = response.headers.get("Content-Type") || "";
      if (type.startsWith("text/html") && swap(await response.text())) {
        busy = false;
        return;
      }
    } catch (error) {
      // The network failed: let the browser send it the ordinary way.
    }
    busy = false;
    form.submit();
  }

  function prepare() {
    document.querySelectorAll("form[data-one-tap]").forEach(function (form) {
      form.classList.add("one-tap");
      const hint = form.querySelector("[data-one-tap-hint]");
      if (hint) {
        hint.hidden = false;
      }
    });
  }

  // A tap or a click, never the arrow keys that move between choices.
  document.addEventListener("pointerdown", function (event) {
    if (event.target.closest("form[data-one-tap] .choice")) {
      pointerAt = Date.now();
    }
  });

  document.addEventListener("change", function (event) {
    const form = event.target.closest("form[data-one-tap]");
    if (form && event.target.type === "radio" && Date.now() - pointerAt < 2000) {
      pointerAt = 0;
      send(form);
    }
  });

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (form.matches("form[data-answer]")) {
      event.preventDefault();
      send(form);
    }
  });

  prepare();
})();
