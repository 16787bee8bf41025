/* Lendstack portal: small progressive enhancements. Every page works without this file. */
(function () {
  "use strict";

  /* Countdowns: <time data-countdown="259200" data-done="…">3 days</time> — seconds left when the page
     was made, on the site's business calendar. The server's text stays until the first tick; units come
     from data-units="d h m s". */
  function pad(n) { return n < 10 ? "0" + n : String(n); }

  var loaded = Date.now();

  function tick(el) {
    var seconds = parseInt(el.getAttribute("data-countdown"), 10);
    if (isNaN(seconds)) { return false; }
    var end = loaded + seconds * 1000;
    var left = Math.floor((end - Date.now()) / 1000);
    if (left <= 0) {
      el.textContent = el.getAttribute("data-done") || "0";
      return false;
    }
    var units = (el.getAttribute("data-units") || "d h m s").split(" ");
    var days = Math.floor(left / 86400);
    var rest = left % 86400;
    el.textContent = (days ? days + units[0] + " " : "") + pad(Math.floor(rest / 3600)) + units[1] + " " +
      pad(Math.floor(rest % 3600 / 60)) + units[2] + " " + pad(rest % 60) + units[3];
    return true;
  }

  function countdowns() {
    var els = Array.prototype.slice.call(document.querySelectorAll("[data-countdown]"));
    if (!els.length) { return; }
    function all() { els = els.filter(tick); if (els.length) { window.setTimeout(all, 1000); } }
    all();
  }

  /* Live schedule preview on the borrow form: asks the calculator API as the borrower types. */
  function preview() {
    var form = document.querySelector("form[data-preview]");
    var out = document.getElementById("schedule-preview");
    if (!form || !out || !window.fetch) { return; }
    var timer = null;
    function field(name) { var el = form.elements[name]; return el ? el.value.trim() : ""; }
    function cell(row, text, numeric) {
      var td = document.createElement("td");
      td.textContent = text;
      if (numeric) { td.className = "num"; }
      row.appendChild(td);
    }
    function render(data) {
      var body = out.querySelector("tbody");
      var feeHead = out.querySelector("[data-fee-column]");
      var withFee = !!(feeHead && data.installments.length && data.installments[0].service_fee &&
                       data.installments.some(function (r) { return r.service_fee !== "0.00"; }));
      if (feeHead) { feeHead.hidden = !withFee; }
      body.textContent = "";
      data.installments.forEach(function (r) {
        var tr = document.createElement("tr");
        cell(tr, r.period); cell(tr, r.due_date); cell(tr, r.principal, true); cell(tr, r.interest, true);
        if (withFee) { cell(tr, r.service_fee, true); }
        cell(tr, r.payment, true);
        body.appendChild(tr);
      });
      out.querySelector("[data-total-interest]").textContent = data.total_interest;
      out.querySelector("[data-total-payment]").textContent = data.total_payment;
      var apr = out.querySelector("[data-apr]");
      if (apr) { apr.textContent = data.apr_percent ? data.apr_percent + "%" : "—"; }
      out.hidden = false;
      out.removeAttribute("data-error");
    }
    function update() {
      var body = {
        method: field("repayment_method"), principal: field("amount"),
        annual_rate_percent: field("annual_rate_percent"), term_months: parseInt(field("term_months"), 10),
        with_fees: true
      };
      if (!body.method || !body.principal || !body.annual_rate_percent || !(body.term_months > 0)) { return; }
      fetch(form.getAttribute("data-preview"), {
        method: "POST", credentials: "same-origin",
        headers: {"Content-Type": "application/json", "Accept": "application/json"},
        body: JSON.stringify(body)
      }).then(function (response) {
        return response.json().then(function (data) { return {ok: response.ok, data: data}; });
      }).then(function (result) {
        if (result.ok) { render(result.data); } else { out.setAttribute("data-error", "1"); }
      }).catch(function () { /* the server-side preview button still works */ });
    }
    form.addEventListener("input", function () {
      window.clearTimeout(timer);
      timer = window.setTimeout(update, 300);
    });
    form.addEventListener("change", update);
  }

  /* The header menu is a <details> that wide screens always show through ::details-content; a browser
     without that selector gets the menu opened for it on wide screens, so it never hides the links there. */
  function menu() {
    var details = document.querySelector("details.menu");
    if (!details || !window.CSS || !CSS.supports || CSS.supports("selector(::details-content)")) { return; }
    var wide = window.matchMedia("(min-width: 641px)");
    function follow() { if (wide.matches) { details.open = true; } }
    follow();
    if (wide.addEventListener) { wide.addEventListener("change", follow); }
  }

  document.addEventListener("DOMContentLoaded", function () { countdowns(); preview(); menu(); });
}());
