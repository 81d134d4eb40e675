/* 兜底通 relief application page: add evidence photos, shrunk on the phone like the visit form's, one at a time.
   No inline scripts (CSP). Each photo gets its UUID once, so a retry after a dropped connection never stores it twice. */
(function () {
  "use strict";
  var box = document.querySelector("[data-relief-photos]");
  if (!box) return;

  var LONG_EDGE = 1280;
  var TARGET_BYTES = 300 * 1024;
  var QUALITIES = [0.7, 0.6, 0.5];
  var TIMEOUT_MS = 180000;  // 300 KB over a weak 2G link

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var input = box.querySelector("[data-relief-photo-input]");
  var status = box.querySelector("[data-relief-photo-status]");
  var problem = document.querySelector("[data-relief-photo-error]");
  var idle = status.textContent;
  var waiting = [];  // {uuid, blob}: kept across failures so a retry sends the same photo UUIDs

  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 0x100).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function decode(file) {  // the browser applies EXIF orientation when decoding: do not rotate again
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
        return new Promise(function (resolve, reject) {
          canvas.toBlob(function (blob) { return blob ? resolve(blob) : reject(new Error("encode failed")); },
            "image/jpeg", tries.shift());
        }).then(function (blob) { return blob.size > TARGET_BYTES && tries.length ? encode() : blob; });
      }
      return encode();
    });
  }

  function upload(photo) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append("file", photo.blob, "evidence.jpg");
      data.append("uuid", photo.uuid);
      xhr.open("POST", box.getAttribute("data-upload-url"));
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.timeout = TIMEOUT_MS;
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (error) { /* an HTML error page */ }
        resolve({ status: xhr.status, body: body });
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { resolve({ status: 0, body: {} }); };
      xhr.send(data);
    });
  }

  function say(text) {
    problem.textContent = text;
    problem.hidden = !text;
  }

  function sendAll() {
    var total = waiting.length, done = 0;
    function next() {
      if (!waiting.length) { window.location.reload(); return Promise.resolve(); }
      status.textContent = "正在上传 " + (done + 1) + "/" + total + "…";
      return upload(waiting[0]).then(function (answer) {
        if (answer.status === 200 || answer.status === 201) {
          waiting.shift();
          done += 1;
          return next();
        }
        box.classList.remove("is-busy");
        status.textContent = answer.status === 0 ? "重新上传" : idle;
        if (answer.status === 0) say("网络不通，照片还在手机上，请点“重新上传”");
        else { waiting.shift(); say(answer.body.message || "这张照片没有保存，请换一张"); }
      });
    }
    box.classList.add("is-busy");
    say("");
    return next();
  }

  input.addEventListener("change", function () {
    var files = Array.prototype.slice.call(input.files);
    input.value = "";
    if (!files.length) return;
    status.textContent = "正在处理照片…";
    files.reduce(function (chain, file) {  // one at a time: memory is short on a cheap phone
      return chain.then(function () {
        return shrink(file).then(function (blob) { waiting.push({ uuid: uuid4(), blob: blob }); },
          function () { say("有一张照片读不出来，请换一张或重新拍"); });
      });
    }, Promise.resolve()).then(sendAll);
  });
  // after a network failure the same label reads "重新上传": choosing nothing new resends what waits
  box.addEventListener("click", function (event) {
    if (waiting.length && !box.classList.contains("is-busy")) {
      event.preventDefault();
      sendAll();
    }
  });
})();
