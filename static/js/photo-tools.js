/* 兜底通: what every photo upload shares — shrink on the phone, and UUIDs for idempotent retries.
   Loaded before visit.js and relief.js; no inline scripts (CSP). */
(function () {
  "use strict";
  var LONG_EDGE = 1280;             // the server keeps ≤ 1600 px; 1280 is plenty and much smaller
  var TARGET_BYTES = 300 * 1024;    // 300 KB goes up a weak 2G link in about a minute
  var QUALITIES = [0.7, 0.6, 0.5];  // first try 0.7, lower only when still too big

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  // The browser applies EXIF orientation when decoding: do not rotate again.
  function decode(file) {
    if (!window.createImageBitmap) return decodeWithImg(file);
    return createImageBitmap(file, { imageOrientation: "from-image" })
      .catch(function () { return createImageBitmap(file); })
      .catch(function () { return decodeWithImg(file); });
  }

  function decodeWithImg(file) {
    return new Promise(function (resolve, reject) {
      var img = new Image();
      var url = URL.createObjectURL(file);
      img.onload = function () { URL.revokeObjectURL(url); resolve(img); };
      img.onerror = function () { URL.revokeObjectURL(url); reject(new Error("not an image")); };
      img.src = url;
    });
  }

  function toBlob(canvas, quality) {
    return new Promise(function (resolve, reject) {
      canvas.toBlob(function (blob) { return blob ? resolve(blob) : reject(new Error("encode failed")); }, "image/jpeg", quality);
    });
  }

  // Return a JPEG blob with the long edge ≤ 1280 px, at the best quality that fits 300 KB.
  function shrink(file) {
    return decode(file).then(function (image) {
      var scale = Math.min(1, LONG_EDGE / Math.max(image.width, image.height));
      var canvas = document.createElement("canvas");
      canvas.width = Math.round(image.width * scale);
      canvas.height = Math.round(image.height * scale);
      canvas.getContext("2d").drawImage(image, 0, 0, canvas.width, canvas.height);
      if (image.close) image.close();  // a 12-megapixel bitmap is 48 MB: give it back at once
      var tries = QUALITIES.slice();
      function encode() {
        return toBlob(canvas, tries.shift()).then(function (blob) {
          return blob.size > TARGET_BYTES && tries.length ? encode() : blob;
        });
      }
      return encode();
    });
  }

  window.DoudiPhotos = { uuid4: uuid4, shrink: shrink };
})();
