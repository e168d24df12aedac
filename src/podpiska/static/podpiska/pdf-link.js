// A PDF link that takes over a second says so («Готовим PDF…») instead of seeming dead,
// then saves the file under the server's name. Without fetch, an ordinary download.
(function () {
  "use strict";
  function filename(response, fallback) {
    var match = /filename="?([^";]+)"?/.exec(response.headers.get("Content-Disposition") || "");
    return match ? match[1] : fallback;
  }
  document.addEventListener("click", function (e) {
    var link = e.target.closest("a[data-pdf]");
    if (!link || !window.fetch || !window.URL || e.ctrlKey || e.metaKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    if (link.getAttribute("aria-busy") === "true") return;
    var status = document.getElementById(link.getAttribute("data-pdf-status"));
    link.setAttribute("aria-busy", "true");
    var timer = setTimeout(function () {
      if (status) { status.textContent = link.getAttribute("data-pdf"); status.hidden = false; }
    }, 1000);
    function done() {
      clearTimeout(timer);
      link.removeAttribute("aria-busy");
      if (status) { status.hidden = true; status.textContent = ""; }
    }
    fetch(link.href, {credentials: "same-origin"}).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      return response.blob().then(function (blob) {
        var save = document.createElement("a");
        save.href = URL.createObjectURL(blob);
        save.download = filename(response, "invoice.pdf");
        document.body.appendChild(save);
        save.click();
        save.remove();
        setTimeout(function () { URL.revokeObjectURL(save.href); }, 60000);
        done();
      });
    }).catch(function () { done(); window.location.href = link.href; });
  });
})();
