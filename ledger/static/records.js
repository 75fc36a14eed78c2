/* The staff record forms, a little quicker with JavaScript (they all work without it):
   - show only the fields of the chosen kind (cash, materials, labour);
   - search donors and list the chosen donor's open pledges without reloading the page;
   - the allocation form's live panel: the fund's available balance, the household's need;
   - a form is sent once: its buttons are disabled after the first click (the server also
     records a form once, whatever the browser does).
   Loaded as a file (the Content-Security-Policy allows no inline script). */
(function () {
  "use strict";

  function $(selector, root) { return (root || document).querySelector(selector); }
  function $all(selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (resp) { if (!resp.ok) { throw new Error(resp.status); } return resp.json(); });
  }

  function replaceOptions(select, options, keepFirst) {
    var first = keepFirst && select.options.length ? select.options[0].cloneNode(true) : null;
    select.innerHTML = "";
    if (first) { select.appendChild(first); }
    options.forEach(function (o) {
      var option = document.createElement("option");
      option.value = String(o.id);
      option.textContent = o.label;
      select.appendChild(option);
    });
  }

  /* --- kind of resource -------------------------------------------------------------- */
  var METHODS = { cash: ["bank_transfer", "cash"], material: ["in_kind"], labour: ["labour"] };

  $all("[data-kind-switch]").forEach(function (wrap) {
    var select = $("[data-kind-select]", wrap);
    var method = $("[data-method-select]");
    function show() {
      $all(".kind-fields", wrap).forEach(function (fs) { fs.hidden = fs.getAttribute("data-kind") !== select.value; });
      if (method) {
        var fitting = METHODS[select.value] || [];
        if (fitting.indexOf(method.value) < 0) { method.value = fitting[0]; }
        $all("option", method).forEach(function (o) { o.disabled = fitting.indexOf(o.value) < 0; });
      }
    }
    select.addEventListener("change", show);
    show();
  });

  /* --- donor search and the donor's pledges -------------------------------------------- */
  var picker = $("[data-donor-picker]");
  var searchForm = $("#donor-search");
  var donorSelect = $("[data-donor-select]");
  var pledgeBox = $("[data-pledges]");
  var pledgeSelect = $("[data-pledge-select]");

  function refreshPledges() {
    if (!pledgeBox || !pledgeSelect || !donorSelect) { return; }
    var url = pledgeBox.getAttribute("data-pledges") + "?donor_id=" + encodeURIComponent(donorSelect.value);
    getJSON(url).then(function (pledges) { replaceOptions(pledgeSelect, pledges, true); }).catch(function () {});
  }

  if (picker && searchForm && donorSelect) {
    var status = document.createElement("small");
    status.className = "hint";
    status.setAttribute("role", "status");
    donorSelect.parentNode.appendChild(status);
    searchForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var q = $("#donor_q").value.trim();
      var url = picker.getAttribute("data-lookup") + "?q=" + encodeURIComponent(q);
      getJSON(url).then(function (donors) {
        replaceOptions(donorSelect, donors, true);
        if (donors.length) { donorSelect.value = String(donors[0].id); }
        status.textContent = (picker.getAttribute("data-found") || "%(n)s").replace("%(n)s", donors.length);
        refreshPledges();
        donorSelect.focus();
      }).catch(function () { searchForm.submit(); });
    });
    donorSelect.addEventListener("change", refreshPledges);
  }

  /* --- allocation: live availability and need ----------------------------------------- */
  var allocation = $("#allocation-form");
  var panel = $("#availability");
  if (allocation && panel) {
    var household = $("#household_id", allocation);
    var fund = $("#fund_id", allocation);
    var refreshPanel = function () {
      var url = allocation.getAttribute("data-availability") + "?fund_id=" + encodeURIComponent(fund.value) +
        "&household_id=" + encodeURIComponent(household.value);
      panel.setAttribute("aria-busy", "true");
      getJSON(url).then(function (data) {
        panel.innerHTML = data.html;  /* rendered and escaped by the server's own template */
        panel.removeAttribute("aria-busy");
      }).catch(function () { panel.removeAttribute("aria-busy"); });
    };
    household.addEventListener("change", refreshPanel);
    fund.addEventListener("change", refreshPanel);
    panel.addEventListener("click", function (event) {
      var button = event.target.closest("[data-use-lot]");
      if (!button) { return; }
      var named = $("input[name=source][value=named]", allocation);
      if (named) { named.checked = true; }
      $("#source_contribution", allocation).value = button.getAttribute("data-use-lot");
      var kind = $("[data-kind-select]", allocation);
      if (kind && kind.value !== button.getAttribute("data-lot-kind")) {
        kind.value = button.getAttribute("data-lot-kind");
        kind.dispatchEvent(new Event("change"));
      }
      if (button.hasAttribute("data-item")) {
        $("#item", allocation).value = button.getAttribute("data-item");
        $("#unit", allocation).value = button.getAttribute("data-unit");
      }
      $("#source_contribution", allocation).focus();
    });
  }

  /* --- one click records once ---------------------------------------------------------- */
  $all("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function () {
      window.setTimeout(function () {  /* after the browser has taken the form's fields */
        Array.prototype.forEach.call(form.elements, function (el) { if (el.type === "submit") { el.disabled = true; } });
      }, 0);
    });
  });
  window.addEventListener("pageshow", function () {  /* back from the next page: usable again */
    $all("form[method=post] button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
})();
