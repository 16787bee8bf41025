/* Live help: new chat messages appear without reloading, and messages are sent without leaving the page.
   The pages work without this file (a form that posts, a link that reloads). Text is only ever set with
   textContent: a message is plain text, never markup. */
(function () {
  "use strict";
  if (!window.fetch || !window.FormData) { return; }

  var ERROR_RETRY_MS = 3000;

  function chatLog() {
    var log = document.getElementById("chat-log");
    if (!log) { return; }
    var url = log.getAttribute("data-poll");
    var last = parseInt(log.getAttribute("data-last"), 10) || 0;
    var state = document.getElementById("chat-state");
    var stopped = false;

    function add(message) {
      if (message.seq <= last) { return; }
      last = message.seq;
      var item = document.createElement("li");
      item.className = "chat-" + message.author;
      item.setAttribute("data-seq", String(message.seq));
      if (message.author === "event") {
        var em = document.createElement("em");
        em.textContent = message.text;
        item.appendChild(em);
      } else {
        var name = document.createElement("strong");
        name.className = "chat-name";
        name.textContent = message.name;
        var when = document.createElement("time");
        when.setAttribute("datetime", message.at);
        when.textContent = new Date(message.at).toLocaleString();
        var small = document.createElement("small");
        small.appendChild(when);
        var text = document.createElement("p");
        text.className = "chat-text";
        text.textContent = message.text;
        item.appendChild(name);
        item.appendChild(document.createTextNode(" "));
        item.appendChild(small);
        item.appendChild(text);
      }
      log.appendChild(item);
      item.scrollIntoView({block: "nearest"});
    }

    /* The page says each state in its own sentence; the current one is shown, the others hidden. */
    function show(status, staff) {
      log.setAttribute("data-status", status);
      if (state) {
        Array.prototype.forEach.call(state.querySelectorAll("[data-state]"), function (sentence) {
          sentence.hidden = sentence.getAttribute("data-state") !== status;
        });
        Array.prototype.forEach.call(state.querySelectorAll(".chat-staff-name"), function (name) {
          name.textContent = staff || "";
        });
      }
      if (status === "closed") {
        ["chat-form", "chat-end"].forEach(function (id) {
          var form = document.getElementById(id);
          if (form) { form.hidden = true; }
        });
      }
    }

    function poll() {
      if (stopped) { return; }
      fetch(url + "?after=" + last + "&wait=1", {credentials: "same-origin", headers: {Accept: "application/json"}})
        .then(function (response) {
          // A chat that is gone or no longer this visitor's (404, 403, signed out) stays so: stop asking.
          // Anything else (429, 5xx, no network) is asked again a little later.
          if (response.status >= 400 && response.status < 500 && response.status !== 429) { stopped = true; return null; }
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (data) {
          if (data === null) { return; }
          data.messages.forEach(add);
          if (data.status !== log.getAttribute("data-status")) { show(data.status, data.staff); }
          if (data.status === "closed") { stopped = true; return; }
          window.setTimeout(poll, data.retry_ms);
        })
        .catch(function () { window.setTimeout(poll, ERROR_RETRY_MS); });
    }

    var form = document.getElementById("chat-form");
    if (form) {
      var body = form.elements.body;
      var error = document.getElementById("body-error");
      var canned = form.elements.canned;
      if (canned) {
        canned.addEventListener("change", function () {
          var option = canned.options[canned.selectedIndex];
          if (option && option.getAttribute("data-body")) { body.value = option.getAttribute("data-body"); }
        });
      }
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var sent = new FormData(form);
        fetch(form.action, {method: "POST", body: sent, credentials: "same-origin", headers: {Accept: "application/json"}})
          .then(function (response) {
            if (response.ok) {
              body.value = "";
              if (canned) { canned.selectedIndex = 0; }
              error.textContent = "";
              error.hidden = true;
              return null;
            }
            return response.text().then(function (html) {
              var page = new DOMParser().parseFromString(html, "text/html");
              var found = page.getElementById("body-error");
              error.textContent = found && found.textContent.trim() ? found.textContent.trim() : String(response.status);
              error.hidden = false;
            });
          })
          .catch(function () { form.submit(); });
      });
    }
    poll();
  }

  /* The staff's queue: refreshed every few seconds (the page itself is the source). */
  function queue() {
    var box = document.getElementById("chat-queue");
    if (!box) { return; }
    var url = box.getAttribute("data-refresh");
    function refresh() {
      fetch(url, {credentials: "same-origin"})
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html) {
            var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("chat-queue");
            if (fresh) { box.replaceChildren.apply(box, Array.prototype.slice.call(fresh.childNodes)); }
          }
          window.setTimeout(refresh, 5000);
        })
        .catch(function () { window.setTimeout(refresh, 10000); });
    }
    window.setTimeout(refresh, 5000);
  }

  chatLog();
  queue();
}());
