(function () {
  "use strict";
  var cards = Array.prototype.slice.call(document.querySelectorAll("article.card"));
  var statusFilter = "all";
  var categorySelect = document.getElementById("filter-category");
  var shown = document.getElementById("shown-count");

  function apply() {
    var category = categorySelect ? categorySelect.value : "";
    var count = 0;
    cards.forEach(function (card) {
      var visible = (statusFilter === "all" || card.dataset.status === statusFilter) &&
        (!category || card.dataset.category === category);
      card.hidden = !visible;
      if (visible) { count += 1; }
    });
    if (shown) { shown.textContent = count + " of " + cards.length + " shown"; }
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-filter-status]"), function (button) {
    button.addEventListener("click", function () {
      statusFilter = button.dataset.filterStatus;
      Array.prototype.forEach.call(document.querySelectorAll("button[data-filter-status]"), function (b) {
        b.classList.toggle("active", b === button);
      });
      apply();
    });
  });
  if (categorySelect) { categorySelect.addEventListener("change", apply); }

  function setAll(open) {
    cards.forEach(function (card) {
      var details = card.querySelector("details");
      if (details && !card.hidden) { details.open = open; }
    });
  }
  var expand = document.getElementById("expand-all");
  var collapse = document.getElementById("collapse-all");
  if (expand) { expand.addEventListener("click", function () { setAll(true); }); }
  if (collapse) { collapse.addEventListener("click", function () { setAll(false); }); }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), function (button) {
    button.addEventListener("click", function () {
      var code = button.parentNode.querySelector(".curl-cmd");
      if (!code) { return; }
      var text = code.textContent;
      function done(ok) {
        button.textContent = ok ? "copied" : "select + copy";
        window.setTimeout(function () { button.textContent = "copy"; }, 1500);
      }
      function fallback() {
        var range = document.createRange();
        range.selectNodeContents(code);
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        done(false);
      }
      try {
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(text).then(function () { done(true); }, fallback);
        } else {
          fallback();
        }
      } catch (e) {
        fallback();
      }
    });
  });

  function reveal(hash) {
    if (!hash || hash.length < 2) { return; }
    var target = document.getElementById(decodeURIComponent(hash.slice(1)));
    if (!target) { return; }
    var node = target;
    while (node) {
      if (node.tagName === "DETAILS") { node.open = true; }
      node = node.parentElement;
    }
    target.scrollIntoView({ block: "center" });
  }
  window.addEventListener("hashchange", function () { reveal(window.location.hash); });
  Array.prototype.forEach.call(document.querySelectorAll("a[href^='#']"), function (link) {
    link.addEventListener("click", function () {
      window.setTimeout(function () { reveal(link.getAttribute("href")); }, 0);
    });
  });
  reveal(window.location.hash);
  apply();
})();
