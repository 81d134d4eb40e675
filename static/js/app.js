/* 兜底通: the little JavaScript every page needs. No inline scripts (CSP). */
(function () {
  "use strict";
  // Send the CSRF token with every htmx request (Flask-WTF reads X-CSRFToken).
  document.addEventListener("htmx:configRequest", function (event) {
    var meta = document.querySelector('meta[name="csrf-token"]');
    if (meta) event.detail.headers["X-CSRFToken"] = meta.content;
  });
  // Forms and buttons with data-confirm ask first.
  document.addEventListener("submit", function (event) {
    var question = event.target.getAttribute("data-confirm");
    if (question && !window.confirm(question)) event.preventDefault();
  }, true);
  // Forms marked data-swap-errors show the server's 400 answer: the same part, with the mistake marked.
  document.addEventListener("htmx:beforeSwap", function (event) {
    var elt = event.detail.requestConfig && event.detail.requestConfig.elt;
    var partial = !/<html/i.test(event.detail.serverResponse || "");  // a whole error page is not a part
    if (event.detail.xhr.status === 400 && partial && elt && elt.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });
  // A failed htmx request says so in plain words instead of doing nothing.
  document.addEventListener("htmx:sendError", function () {
    window.alert("网络不通，请检查信号后重试");
  });
  // The field app opens with no signal: its service worker keeps the page shells and static files (sw.js).
  var fieldWork = document.querySelector('meta[name="doudi-offline"]');
  if (fieldWork && "serviceWorker" in navigator) {
    window.addEventListener("load", function () {
      navigator.serviceWorker.register("/sw.js", { scope: "/" }).catch(function () { /* blocked: the outbox still works */ });
    });
  }
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.xhr.status === 429) window.alert("操作太频繁，请稍后再试");
    else window.alert("出错了，请稍后重试（" + event.detail.xhr.status + "）");
  });
})();
