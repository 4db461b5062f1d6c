// Keyboard shortcuts, bulk selection, the reply/note composer and presence for the staff pages.
(function () {
  "use strict";

  function typing(event) {
    const el = event.target;
    return el.isContentEditable || ["INPUT", "TEXTAREA", "SELECT"].includes(el.tagName);
  }

  // ----- inbox: j/k move, Enter opens, x selects -----

  function rows() {
    return Array.from(document.querySelectorAll('[data-testid="inbox-row"]'));
  }

  function currentIndex(list) {
    return list.findIndex((row) => row.classList.contains("is-current"));
  }

  function moveTo(list, index) {
    list.forEach((row) => row.classList.remove("is-current"));
    const row = list[Math.max(0, Math.min(index, list.length - 1))];
    if (row) {
      row.classList.add("is-current");
      row.scrollIntoView({ block: "nearest" });
    }
  }

  function inboxKey(event) {
    const list = rows();
    if (!list.length) return false;
    const index = currentIndex(list);
    const current = list[index];
    switch (event.key) {
      case "j":
        moveTo(list, index + 1);
        return true;
      case "k":
        moveTo(list, index < 0 ? 0 : index - 1);
        return true;
      case "Enter":
        // Enter on a focused link, button or menu keeps its own meaning.
        if (!current || event.target.closest("a, button, summary")) return false;
        window.location.href = current.dataset.href;
        return true;
      case "x": {
        if (!current) return false;
        const box = current.querySelector('input[type="checkbox"]');
        box.checked = !box.checked;
        box.dispatchEvent(new Event("change", { bubbles: true }));
        return true;
      }
      default:
        return false;
    }
  }

  // ----- ticket page: r reply, n note -----

  function showComposer(name) {
    const composer = document.getElementById("composer");
    if (!composer) return false;
    composer.dataset.composer = name;
    composer.querySelectorAll(".composer-tab").forEach((tab) => {
      tab.setAttribute("aria-selected", String(tab.dataset.tab === name));
    });
    const field = document.getElementById(name === "note" ? "note-body" : "reply-body");
    field.focus();
    return true;
  }

  document.addEventListener("keydown", (event) => {
    if (event.metaKey || event.ctrlKey || event.altKey) return;
    if (typing(event)) {
      if (event.key === "Escape") event.target.blur();
      return;
    }
    let handled = false;
    if (event.key === "/") {
      const search = document.getElementById("filter-q");
      if (search) {
        search.focus();
        search.select();
        handled = true;
      }
    } else if (event.key === "r") {
      handled = showComposer("reply");
    } else if (event.key === "n") {
      handled = showComposer("note");
    } else {
      handled = inboxKey(event);
    }
    if (handled) event.preventDefault();
  });

  document.addEventListener("click", (event) => {
    const tab = event.target.closest(".composer-tab");
    if (tab) {
      showComposer(tab.dataset.tab);
      return;
    }
    // A click anywhere on an inbox row opens the ticket, except on its checkbox or links.
    const row = event.target.closest('[data-testid="inbox-row"]');
    if (row && !event.target.closest("a, input, label, button")) {
      window.location.href = row.dataset.href;
    }
  });

  // ----- bulk selection -----

  function updateBulkCount() {
    const boxes = document.querySelectorAll('input[name="bulk-ticket"]');
    const checked = Array.from(boxes).filter((box) => box.checked);
    boxes.forEach((box) => box.closest("tr").classList.toggle("is-checked", box.checked));
    const label = document.getElementById("bulk-count");
    if (label) {
      label.textContent = checked.length
        ? `${checked.length} selected`
        : "Select tickets for bulk actions";
    }
    const all = document.getElementById("select-all");
    if (all) all.checked = boxes.length > 0 && checked.length === boxes.length;
  }

  document.addEventListener("change", (event) => {
    if (event.target.id === "select-all") {
      document.querySelectorAll('input[name="bulk-ticket"]').forEach((box) => {
        box.checked = event.target.checked;
      });
    }
    if (event.target.id === "select-all" || event.target.name === "bulk-ticket") {
      updateBulkCount();
    }
  });

  // ----- forms that ask first: <form data-confirm="question"> (no inline handlers under the CSP) -----

  document.addEventListener("submit", (event) => {
    const question = event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  // ----- navigation menu (<details class="navmenu">): Escape or a click elsewhere closes it -----

  document.addEventListener("keydown", (event) => {
    const menu = document.querySelector(".navmenu[open]");
    if (event.key !== "Escape" || !menu) return;
    menu.open = false;
    menu.querySelector("summary").focus();
  });

  document.addEventListener("click", (event) => {
    const menu = document.querySelector(".navmenu[open]");
    if (menu && !menu.contains(event.target)) menu.open = false;
  });

  // ----- in-page requests that fail: htmx swaps nothing, so say so (one notice, replaced) -----

  function requestProblem(status) {
    if (status === 403) return "Not saved: this page has expired or you may not do this. Reload the page and try again.";
    if (status === 404) return "Not found: it may have been moved or deleted. Reload the page.";
    if (status === 413) return "Not saved: that is too large.";
    if (status === 429) return "Too many requests just now. Wait a moment and try again.";
    if (status) return "Not saved: the help desk had a problem. Try again in a moment.";
    return "Not saved: the help desk cannot be reached. Check your connection and try again.";
  }

  function showRequestProblem(text) {
    let notice = document.querySelector('[data-testid="request-problem"]');
    if (!notice) {
      const list = document.createElement("ul");
      list.className = "flash";
      list.setAttribute("role", "alert");
      notice = document.createElement("li");
      notice.className = "flash-error";
      notice.dataset.testid = "request-problem";
      list.append(notice);
      document.querySelector("main").before(list);
    }
    notice.textContent = text;
  }

  function undoUnsavedChange(element) {
    // A form saved on each change shows what is saved, not the refused change.
    if (element.matches("form[hx-trigger='change']")) element.reset();
  }

  // Only changes count: a failed background refresh (presence, previews) saves nothing, and
  // its next success must not hide a change that was refused.
  function isChange(event) {
    return event.detail.requestConfig.verb !== "get";
  }

  document.addEventListener("htmx:responseError", (event) => {
    if (!isChange(event)) return;
    showRequestProblem(requestProblem(event.detail.xhr.status));
    undoUnsavedChange(event.detail.elt);
  });
  document.addEventListener("htmx:sendError", (event) => {
    if (isChange(event)) showRequestProblem(requestProblem(0));
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    if (!isChange(event) || !event.detail.successful) return;
    const notice = document.querySelector('[data-testid="request-problem"]');
    if (notice) notice.parentElement.remove();
  });

  // ----- presence: say goodbye when leaving a ticket, so others see it at once -----

  window.addEventListener("pagehide", () => {
    const viewers = document.getElementById("viewers");
    if (!viewers || !navigator.sendBeacon) return;
    const data = new FormData();
    data.append("csrfmiddlewaretoken", document.body.dataset.csrf);
    navigator.sendBeacon(viewers.dataset.leaveUrl, data);
  });
})();
