// PurgeCSS settings for scripts/vendor.sh: keep only the WeUI rules that Doudi's markup can use.
// Only the vendored weui.min.css is cut; static/css/app.css is ours and is served whole.
// tests/test_vendored_css.py checks that every weui- class in templates/ and static/js/ is still defined.
module.exports = {
  // Every file the browser may get a class from: the templates (pages, partials, the service worker's shells)
  // and our scripts. The default extractor keeps every word, so classes inside Jinja expressions count too.
  content: ["templates/**/*", "static/js/*.js"],
  safelist: {
    // Set by our JavaScript (static/js/visit.js, shells.js): they are plain strings there, so the extractor
    // finds them already; listed here so a script moved out of static/js/ cannot silently lose its styling.
    standard: [
      "weui-uploader__file_status",
      "weui-btn",
      "weui-btn_default",
      "weui-btn_primary",
      "weui-btn_mini",
      "weui-cells",
      "weui-cell",
      "weui-cell__bd",
    ],
  },
  // Custom properties no kept rule reads and @keyframes no kept rule runs go too; app.css uses no --weui- variable.
  variables: true,
  keyframes: true,
  fontFace: true,
};
