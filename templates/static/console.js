/* Offboard console: small enhancements only; every page works without this script.
   - <time data-local> elements show the viewer's own time zone (the server writes UTC; the exact UTC
     value stays in the title shown on hover).
   - Full hash values get a "Copy" button. */
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, {
    day: "numeric", month: "short", year: "numeric", hour: "2-digit", minute: "2-digit", hour12: false
  });
  document.querySelectorAll("time[data-local]").forEach(function (el) {
    var at = new Date(el.getAttribute("datetime"));
    if (!isNaN(at.getTime())) { el.textContent = format.format(at); }
  });
  if (!navigator.clipboard) { return; }
  document.querySelectorAll("[data-copy-source]").forEach(function (source) {
    var button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy the full value");
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent.trim()).then(function () {
        button.textContent = "Copied";
        setTimeout(function () { button.textContent = "Copy"; }, 2000);
      });
    });
    source.insertAdjacentElement("afterend", button);
  });
})();
