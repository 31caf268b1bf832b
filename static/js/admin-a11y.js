// The Django admin for the operator, WCAG 2.1 AA where Django's own scripts fall short.
// SelectFilter2 (filter_horizontal) puts aria-label on a bare <span> icon, which axe refuses
// (aria-prohibited-attr): give each such icon role="img" as it is inserted, before the page's
// load event ends, so the label is allowed and read.
(function () {
  "use strict";
  function fix(root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("span.search-label-icon[aria-label]:not([role])").forEach(function (icon) {
      icon.setAttribute("role", "img");
    });
  }
  new MutationObserver(function (records) {
    records.forEach(function (record) {
      record.addedNodes.forEach(function (node) {
        if (node.nodeType === 1) {
          if (node.matches("span.search-label-icon[aria-label]:not([role])")) node.setAttribute("role", "img");
          fix(node);
        }
      });
    });
  }).observe(document.documentElement, { childList: true, subtree: true });
})();
