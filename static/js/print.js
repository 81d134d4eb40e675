/* The print sheet's 打印 button (no inline script: CSP). */
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
