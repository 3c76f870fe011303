// A conversation in place: a choice (or "Try again") fetches the next page in the background
// and swaps in its conversation, with no page load. Without JavaScript the same forms and links
// load one page per turn, so this only makes it quicker.
(function () {
  "use strict";

  function swap(html, url) {
    const next = new DOMParser().parseFromString(html, "text/html");
    const incoming = next.getElementById("conversation");
    const current = document.getElementById("conversation");
    if (!incoming || !current) {
      return false;
    }
    current.replaceWith(document.importNode(incoming, true));
    const header = next.querySelector(".player");
    const shown = document.querySelector(".player");
    if (header && shown) {
      shown.replaceWith(document.importNode(header, true));
    }
    document.title = next.title;
    if (url && url !== window.location.href) {
      window.history.pushState({}, "", url);
    }
    // Where a screen reader and the keyboard carry on: the customer's line, or the outcome.
    const focus = document.querySelector("#conversation [data-focus]");
    if (focus) {
      focus.focus();
    }
    return true;
  }

  async function load(url, options, fallback) {
    try {
      const response = await fetch(url, Object.assign({ credentials: "same-origin" }, options));
      const type = response.headers.get("Content-Type") || "";
      if (type.startsWith("text/html") && swap(await response.text(), response.url)) {
        return;
      }
    } catch (error) {
      // The network failed: let the browser try the ordinary way.
    }
    fallback();
  }

  document.addEventListener("submit", function (event) {
    const form = event.target;
    if (!form.matches("form[data-in-place]")) {
      return;
    }
    event.preventDefault();
    const body = new FormData(form);
    const button = event.submitter;
    if (button && button.name) {
      body.append(button.name, button.value);
    }
    form.querySelectorAll("button").forEach(function (each) {
      each.disabled = true;
    });
    load(form.action, { method: "POST", body: body }, function () {
      if (button && button.name) {
        const choice = document.createElement("input");
        choice.type = "hidden";
        choice.name = button.name;
        choice.value = button.value;
        form.append(choice);
      }
      form.submit();
    });
  });

  document.addEventListener("click", function (event) {
    const link = event.target.closest("a[data-in-place]");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey) {
      return;
    }
    event.preventDefault();
    load(link.href, {}, function () {
      window.location.assign(link.href);
    });
  });

  // Back and Forward show the page the server has for that address.
  window.addEventListener("popstate", function () {
    window.location.reload();
  });
})();
