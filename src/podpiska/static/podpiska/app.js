// Windows (a <dialog> filled by htmx), the «?» support panel, copy buttons.
(function () {
  "use strict";
  var dialog = document.getElementById("window");
  var body = document.getElementById("window-body");
  var opener = null;

  document.body.addEventListener("htmx:beforeRequest", function (e) {
    if (e.detail.target === body && !dialog.open) opener = document.activeElement;
  });
  // Where focus goes back when the window closes: to the opener if it still takes focus;
  // an opener inside the organization menu (closed, or redrawn by the window) cannot, so
  // the menu's button takes it — focus never falls to <body>.
  function returnFocus() {
    var target = opener;
    opener = null;
    if (!target) return;
    if (document.contains(target)) target.focus();
    if (document.activeElement === target || !target.closest("#org-menu")) return;
    var summary = document.querySelector("#org-menu > summary");
    if (summary) summary.focus();
  }
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target !== body) return;
    // htmx wires the new content only when it settles (20 ms later); a quick click on
    // «Продолжить оформление» in that gap would leave the window for a full page.
    htmx.process(body);
    var menu = document.getElementById("org-menu");
    if (menu && menu.open && !menu.contains(body)) menu.open = false;
    if (!dialog.open) dialog.showModal();
    // The first thing to read or fill, never «×»: a field asked for, the first field,
    // else the heading (a screen reader then starts at the window's title).
    var focus = body.querySelector("[autofocus]") ||
      body.querySelector(".window-content input:not([type=hidden]):not([readonly]):not([disabled]), .window-content select, .window-content textarea");
    if (!focus) {
      focus = body.querySelector("#window-title, h2");
      if (focus) focus.setAttribute("tabindex", "-1");
    }
    if (focus) focus.focus();
  });
  // Server-side field errors come back as 422: show them in the window anyway.
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    if (e.detail.xhr.status === 422) { e.detail.shouldSwap = true; e.detail.isError = false; }
  });
  // A window that cannot open (the offer changed, no right to buy) says so instead of nothing.
  document.body.addEventListener("htmx:responseError", function (e) {
    if (e.detail.target !== body || e.detail.xhr.status === 422) return;
    body.innerHTML = "";
    var p = document.createElement("p");
    p.className = "error window-content";
    p.setAttribute("role", "alert");
    p.textContent = dialog.getAttribute(e.detail.xhr.status === 403 ? "data-forbidden" : "data-failed");
    body.appendChild(p);
    if (!dialog.open) dialog.showModal();
  });
  dialog.addEventListener("close", function () {
    body.innerHTML = "";
    returnFocus();
  });
  dialog.addEventListener("click", function (e) {
    if (e.target === dialog || e.target.closest("[data-close-window]")) dialog.close();
  });

  var help = document.querySelector(".help-button");
  var panel = document.getElementById("support-panel");
  function setPanel(open) {
    panel.hidden = !open;
    help.setAttribute("aria-expanded", String(open));
    if (open) { var f = panel.querySelector("a, summary, input"); if (f) f.focus(); } else { help.focus(); }
  }
  help.addEventListener("click", function () { setPanel(panel.hidden); });
  panel.addEventListener("click", function (e) { if (e.target.closest("[data-close-support]")) setPanel(false); });
  document.addEventListener("keydown", function (e) {
    if (e.key !== "Escape") return;
    if (!panel.hidden) setPanel(false);
    var menu = document.getElementById("org-menu");
    if (menu && menu.open && !dialog.open) { menu.open = false; menu.querySelector("summary").focus(); }
  });
  // A click outside the organization menu closes it, as a menu should.
  document.addEventListener("click", function (e) {
    var menu = document.getElementById("org-menu");
    if (menu && menu.open && !menu.contains(e.target) && !dialog.contains(e.target)) menu.open = false;
  });

  // An export form says, as the number changes, what it will spend and what will remain.
  document.body.addEventListener("input", function (e) {
    var input = e.target.closest("input[data-remaining]");
    if (!input) return;
    var out = document.getElementById(input.getAttribute("aria-describedby"));
    var remaining = parseInt(input.getAttribute("data-remaining"), 10);
    var rows = parseInt(input.value, 10);
    if (!out || !(rows > 0)) return;
    var format = function (n) { return n.toLocaleString(document.documentElement.lang || "ru"); };
    var text = rows > remaining ? out.getAttribute("data-over") : out.getAttribute("data-template");
    out.textContent = text.replace("__ROWS__", format(rows)).replace("__AFTER__", format(remaining - rows))
      .replace("__REMAINING__", format(remaining));
  });

  document.body.addEventListener("click", function (e) {
    var button = e.target.closest("[data-copy]");
    if (!button) return;
    var field = document.querySelector(button.getAttribute("data-copy"));
    field.select();
    var done = function () { button.textContent = button.getAttribute("data-copied") || "✓"; };
    if (navigator.clipboard) navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    else { document.execCommand("copy"); done(); }
  });
})();
