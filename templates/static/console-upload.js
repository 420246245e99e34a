/* Offboard console, evidence tab: upload each chosen or dropped file with its own request and progress bar.
   Without this script the form posts every file in one multipart body and the page comes back with the
   result. With it, each file goes as the raw body of one XMLHttpRequest to the data route (the session's
   CSRF token in X-CSRF-Token), so the browser streams it from disk and reports progress per file; results
   are announced in the live region, and the list reloads once every file is done. The file input stays
   the accessible control; the drop zone around it only adds drag and drop. */
(function () {
  "use strict";
  var form = document.getElementById("upload-form");
  if (!form || !window.XMLHttpRequest) { return; }
  var input = document.getElementById("files");
  var zone = document.getElementById("drop-zone");
  var list = document.getElementById("upload-progress");
  var status = document.getElementById("upload-status");

  function say(text) {
    var line = document.createElement("p");
    line.textContent = text;
    status.appendChild(line);
  }

  function problem(xhr) {
    try { return JSON.parse(xhr.responseText).detail || xhr.statusText; } catch (e) { return xhr.statusText || "the connection failed"; }
  }

  function send(file, done) {
    var item = document.createElement("li");
    var label = document.createElement("span");
    var bar = document.createElement("progress");
    var id = "upload-" + list.children.length;
    label.id = id;
    label.textContent = file.name;
    bar.max = file.size || 1;
    bar.value = 0;
    bar.setAttribute("aria-labelledby", id);
    item.appendChild(label);
    item.appendChild(bar);
    list.appendChild(item);
    var xhr = new XMLHttpRequest();
    xhr.open("POST", form.getAttribute("data-upload-url"));
    xhr.setRequestHeader("X-CSRF-Token", form.getAttribute("data-csrf"));
    xhr.setRequestHeader("X-Offboard-Filename", encodeURIComponent(file.name));
    xhr.setRequestHeader("X-Offboard-Kind", form.elements.kind.value);
    xhr.setRequestHeader("X-Offboard-Description", encodeURIComponent(form.elements.description.value));
    xhr.upload.onprogress = function (event) {
      if (event.lengthComputable) { bar.max = event.total || 1; bar.value = event.loaded; }
    };
    xhr.onload = function () {
      var ok = xhr.status === 200 || xhr.status === 201;
      bar.value = bar.max;
      item.className = ok ? "upload-done" : "upload-failed";
      if (ok) {
        var body = JSON.parse(xhr.responseText);
        say(file.name + (body.duplicate ? ": already in this case." : ": stored (ledger entry " + body.ledger_index + ")."));
      } else {
        say(file.name + ": not stored – " + problem(xhr));
      }
      done(ok);
    };
    xhr.onerror = function () { item.className = "upload-failed"; say(file.name + ": not stored – the connection failed."); done(false); };
    xhr.send(file);
  }

  function uploadAll(files) {
    if (!files.length) { say("Choose at least one file to upload."); return; }
    var left = files.length;
    var stored = 0;
    status.textContent = "";
    form.removeAttribute("data-finished");
    Array.prototype.forEach.call(files, function (file) {
      send(file, function (ok) {
        if (ok) { stored += 1; }
        left -= 1;
        if (left === 0) {
          say(stored + " of " + files.length + " files stored.");
          form.setAttribute("data-finished", "true");
          if (stored) { refresh(); }
        }
      });
    });
    input.value = "";
  }

  function refresh() {
    // The list is the server's: fetch this page again and swap in its list, leaving the results in place.
    fetch(window.location.pathname, { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var next = new DOMParser().parseFromString(html, "text/html").getElementById("evidence-list");
      var now = document.getElementById("evidence-list");
      if (next && now) { now.replaceWith(next); }
    });
  }

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    uploadAll(input.files);
  });
  ["dragenter", "dragover"].forEach(function (name) {
    zone.addEventListener(name, function (event) { event.preventDefault(); zone.classList.add("dragging"); });
  });
  ["dragleave", "drop"].forEach(function (name) {
    zone.addEventListener(name, function () { zone.classList.remove("dragging"); });
  });
  zone.addEventListener("drop", function (event) {
    event.preventDefault();
    if (event.dataTransfer && event.dataTransfer.files.length) { uploadAll(event.dataTransfer.files); }
  });
})();
