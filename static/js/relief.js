/* 兜底通 relief application page: add evidence photos, shrunk on the phone like the visit form's, one at a time.
   No inline scripts (CSP). Each photo gets its UUID once, so a retry after a dropped connection never stores it twice. */
(function () {
  "use strict";
  var box = document.querySelector("[data-relief-photos]");
  if (!box) return;

  var uuid4 = window.DoudiPhotos.uuid4;
  var shrink = window.DoudiPhotos.shrink;
  var TIMEOUT_MS = 180000;  // 300 KB over a weak 2G link

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var input = box.querySelector("[data-relief-photo-input]");
  var status = box.querySelector("[data-relief-photo-status]");
  var problem = document.querySelector("[data-relief-photo-error]");
  var idle = status.textContent;
  var waiting = [];  // {uuid, blob}: kept across failures so a retry sends the same photo UUIDs

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
