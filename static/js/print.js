/* The print sheet: once the 打印 button's POST has recorded the batch, the page comes back and prints itself
   (no inline script: CSP). */
document.addEventListener("DOMContentLoaded", function () {
  if (document.body.hasAttribute("data-autoprint")) window.print();
});
