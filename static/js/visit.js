/* 兜底通 visit form: GPS while open, photos shrunk on the phone, one visit per form whatever the network does.
   No inline scripts (CSP). The form's UUID comes from the server; a retry sends the same one, so nothing counts twice. */
(function () {
  "use strict";
  var form = document.querySelector("[data-visit-form]");
  if (!form) return;

  var VISIT_TIMEOUT_MS = 60000;
  var PHOTO_TIMEOUT_MS = 180000;  // 300 KB over a weak 2G link
  var NETWORK_MESSAGE = "网络不通，内容都还在，请点“重新提交”";

  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var submitButton = form.querySelector("[data-submit]");
  var message = form.querySelector("[data-submit-message]");
  var leaveLink = form.querySelector("[data-leave]");
  var fields = form.querySelector("[data-visit-fields]");
  var photoList = form.querySelector("[data-photo-list]");
  var photoAdd = photoList.querySelector(".photo-add");
  var photoError = form.querySelector("[data-photo-error]");
  var photoInputs = Array.prototype.slice.call(form.querySelectorAll("[data-photo-input]"));
  var maxPhotos = Number(form.getAttribute("data-max-photos"));

  var photos = [];            // {uuid, blob, url, li, done}
  var processing = Promise.resolve();
  var busy = false;
  var visitSaved = false;     // the server has the visit: a retry only sends the photos still missing
  var sentLocation;           // frozen at the first attempt: a retry must send exactly the same content
  var best = null;            // the most accurate position seen while the form is open

  // ---- helpers ----

  var uuid4 = window.DoudiPhotos.uuid4;
  var shrink = window.DoudiPhotos.shrink;

  function checked(name) {
    var input = form.querySelector('input[name="' + name + '"]:checked');
    return input ? input.value : null;
  }

  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  // ---- GPS: watched while the page is open, never waited for ----

  function watchLocation() {
    var line = form.querySelector("[data-gps]");
    var text = form.querySelector("[data-gps-text]");
    var none = "未获取定位（不影响保存）";
    if (!navigator.geolocation) {
      text.textContent = none;
      return;
    }
    var watch = navigator.geolocation.watchPosition(function (position) {
      var c = position.coords;
      if (best && c.accuracy >= best.accuracy) return;
      best = { lat: c.latitude, lon: c.longitude, accuracy: Math.min(Math.round(c.accuracy), 100000) };
      text.textContent = "已定位 ±" + best.accuracy + " 米";
      line.classList.add("visit-gps--ok");
    }, function () {
      if (!best) text.textContent = none;  // refused or no fix: the visit is saved without it
    }, { enableHighAccuracy: true, maximumAge: 60000, timeout: 30000 });
    window.addEventListener("pagehide", function () { navigator.geolocation.clearWatch(watch); });
  }

  // ---- needs: add and remove rows (without JavaScript the page shows three empty rows) ----

  var needList = form.querySelector("[data-need-list]");
  var needTemplate = form.querySelector("[data-need-template]");
  var addNeed = form.querySelector("[data-add-need]");

  function needRows() { return Array.prototype.slice.call(needList.querySelectorAll("[data-need-row]")); }

  function setUpNeeds() {
    needRows().slice(1).forEach(function (row) { row.remove(); });
    needRows().forEach(function (row) { row.querySelector("[data-remove-need]").hidden = false; });
    addNeed.hidden = false;
    addNeed.addEventListener("click", function () {
      var row = needTemplate.content.firstElementChild.cloneNode(true);
      row.querySelector("[data-remove-need]").hidden = false;
      needList.appendChild(row);
      row.querySelector("select").focus();
    });
    needList.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-need]");
      if (button) button.closest("[data-need-row]").remove();
    });
  }

  // ---- photos: shrink on the phone (the browser applies EXIF orientation when decoding: do not rotate again) ----

  function countPhotos() {
    form.querySelector("[data-photo-count]").textContent = String(photos.length);
    photoAdd.hidden = photos.length >= maxPhotos;
  }

  function setStatus(photo, text, state) {
    photo.li.querySelector("[data-photo-status]").textContent = text;
    photo.li.querySelector(".photo__frame").classList.toggle("weui-uploader__file_status", Boolean(text));
    if (state) photo.li.setAttribute("data-state", state);
  }

  function addPhoto(file) {
    if (photos.length >= maxPhotos) {
      photoError.textContent = "最多 " + maxPhotos + " 张照片";
      photoError.hidden = false;
      return Promise.resolve();
    }
    var li = form.querySelector("[data-photo-template]").content.firstElementChild.cloneNode(true);
    var photo = { uuid: uuid4(), blob: null, url: null, li: li, done: false };
    photos.push(photo);
    photoList.insertBefore(li, photoAdd);
    setStatus(photo, "处理中…", "processing");
    countPhotos();
    return shrink(file).then(function (blob) {
      photo.blob = blob;
      photo.url = URL.createObjectURL(blob);
      li.querySelector("img").src = photo.url;
      setStatus(photo, "", "ready");
    }, function () {
      removePhoto(photo);
      photoError.textContent = "有一张照片读不出来，请换一张或重新拍";
      photoError.hidden = false;
    });
  }

  function removePhoto(photo) {
    if (photo.done) return;
    photos.splice(photos.indexOf(photo), 1);
    if (photo.url) URL.revokeObjectURL(photo.url);
    photo.li.remove();
    countPhotos();
  }

  function setUpPhotos() {
    photoInputs.forEach(function (input) {
      input.addEventListener("change", function () {
        var files = Array.prototype.slice.call(input.files);
        input.value = "";  // the same picture may be chosen again after removing it
        photoError.hidden = true;
        files.forEach(function (file) {
          processing = processing.then(function () { return addPhoto(file); });  // one at a time: memory is short
        });
      });
    });
    photoList.addEventListener("click", function (event) {
      var button = event.target.closest("[data-remove-photo]");
      if (!button || busy) return;
      var li = button.closest("[data-photo]");
      removePhoto(photos.filter(function (p) { return p.li === li; })[0]);
    });
  }

  // ---- the visit as JSON (VisitIn), with the mistakes a clerk can fix before sending ----

  function serialise() {
    var problems = [];
    var payload = {
      uuid: form.elements.uuid.value,
      household_id: Number(form.elements.household_id.value),
      kind: checked("kind"),
      checklist: {},
      self_checks: {},
      changes: [],
      needs: [],
      risk: checked("risk") || "normal",
      notes: form.elements.notes.value.trim() || null
    };
    if (form.elements.scan_id) payload.scan_id = Number(form.elements.scan_id.value);
    Array.prototype.forEach.call(form.querySelectorAll("[data-note]"), function (note) {
      var key = note.getAttribute("data-note");
      var answer = checked("check-" + key);
      if (answer === "ok") payload.checklist[key] = { ok: true };
      if (answer === "problem") {
        payload.checklist[key] = { ok: false, note: note.value.trim() };
        if (!note.value.trim()) problems.push({ field: "checklist." + key, message: "有问题的项目请简单写明情况" });
      }
    });
    Array.prototype.forEach.call(form.querySelectorAll("[data-self-check]"), function (item) {
      var key = item.getAttribute("data-self-check");
      var answer = checked("self-" + key);
      if (answer) payload.self_checks[key] = answer === "yes";
    });
    Array.prototype.forEach.call(form.querySelectorAll('input[name="changes"]:checked'), function (box) {
      payload.changes.push(box.value);
    });
    needRows().forEach(function (row) {
      var type = row.querySelector("select").value;
      var text = row.querySelector("input").value.trim();
      row.removeAttribute("data-field");
      if (!type && !text) return;
      var field = "needs." + payload.needs.length;
      row.setAttribute("data-field", field);
      if (!type) problems.push({ field: field, message: "请选择诉求类型" });
      if (!text) problems.push({ field: field, message: "请写明诉求内容" });
      payload.needs.push({ type: type, description: text });
    });
    if (sentLocation === undefined) sentLocation = best;
    if (sentLocation) payload.location = sentLocation;
    return { payload: payload, problems: problems };
  }

  function clearFieldErrors() {
    Array.prototype.forEach.call(form.querySelectorAll(".field-error[data-js]"), function (e) { e.remove(); });
    Array.prototype.forEach.call(form.querySelectorAll(".has-error"), function (e) { e.classList.remove("has-error"); });
  }

  // Put each message next to its field ("needs.0.description" → the first need row); the rest go above the button.
  function showFieldErrors(list) {
    var unplaced = [];
    var first = null;
    list.forEach(function (item) {
      var parts = String(item.field).split(".");
      var box = null;
      while (parts.length && !box) {
        box = form.querySelector('[data-field="' + parts.join(".") + '"]');
        parts.pop();
      }
      if (!box) { unplaced.push(item.message); return; }
      var line = document.createElement("span");
      line.className = "field-error";
      line.setAttribute("data-js", "");
      line.textContent = item.message;
      box.classList.add("has-error");
      box.appendChild(line);
      first = first || box;
    });
    say(["请改正标红的项目"].concat(unplaced).join("；"));
    if (first) first.scrollIntoView({ block: "center" });
  }

  // ---- sending: the visit once, then each photo not yet confirmed ----

  function postVisit(payload) {
    var controller = window.AbortController ? new AbortController() : null;
    var timer = controller && setTimeout(function () { controller.abort(); }, VISIT_TIMEOUT_MS);
    return fetch(form.getAttribute("data-api"), {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json" },
      body: JSON.stringify(payload),
      signal: controller ? controller.signal : undefined
    }).then(function (response) {
      clearTimeout(timer);
      return response.json().catch(function () { return {}; }).then(function (body) {
        return { status: response.status, body: body };
      });
    }, function () {
      clearTimeout(timer);
      return { status: 0, body: {} };
    });
  }

  function uploadPhoto(photo) {
    return new Promise(function (resolve) {
      var xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append("file", photo.blob, "photo.jpg");
      data.append("uuid", photo.uuid);
      var caption = photo.li.querySelector("[data-photo-caption]").value;
      if (caption) data.append("caption", caption);
      xhr.open("POST", form.getAttribute("data-photos-api"));
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.timeout = PHOTO_TIMEOUT_MS;
      xhr.upload.onprogress = function (event) {
        if (event.lengthComputable) setStatus(photo, Math.floor((event.loaded / event.total) * 99) + "%", "uploading");
      };
      xhr.onload = function () {
        var body = {};
        try { body = JSON.parse(xhr.responseText); } catch (error) { /* an HTML error page */ }
        resolve({ status: xhr.status, body: body });
      };
      xhr.onerror = xhr.ontimeout = xhr.onabort = function () { resolve({ status: 0, body: {} }); };
      setStatus(photo, "0%", "uploading");
      xhr.send(data);
    });
  }

  function uploadPhotos() {
    var waiting = photos.filter(function (p) { return !p.done; });
    return waiting.reduce(function (chain, photo, index) {
      return chain.then(function (failure) {
        if (failure) return failure;
        submitButton.textContent = "正在上传照片 " + (index + 1) + "/" + waiting.length + "…";
        return uploadPhoto(photo).then(function (result) {
          if (result.status === 200 || result.status === 201) {
            photo.done = true;
            photo.li.querySelector("[data-photo-caption]").disabled = true;
            setStatus(photo, "✓", "done");
            return null;
          }
          if (result.status === 409) photo.uuid = uuid4();  // its number was taken by another picture: take a new one
          setStatus(photo, result.status === 400 ? "未上传" : "待重传", "failed");
          result.photo = true;
          return result;
        });
      });
    }, Promise.resolve(null));
  }

  function fail(result) {
    var status = result.status;
    var text = (result.body && result.body.message) || "";
    if ((status === 0 || status >= 500) && visitSaved) say("走访已保存，还有照片没传上去：" + NETWORK_MESSAGE);
    else if (status === 0 || status >= 500) say(NETWORK_MESSAGE);
    else if (status === 401) say("登录已过期：请在新窗口重新登录，再回到这里点“重新提交”，内容都还在");
    else if (status === 422) showFieldErrors(result.body.fields || []);
    else if (result.photo && status === 400) say("有一张照片没能上传：" + text + "。请删掉它，再点“重新提交”");
    else say(text || "提交没有成功（" + status + "），内容都还在，请点“重新提交”");
    submitButton.textContent = "重新提交";
  }

  function finish() {
    submitButton.textContent = "已保存，正在返回…";
    window.location.replace(form.getAttribute("data-done-url"));  // Back must not land on a sent form
  }

  function sendPhotos(result) {
    return uploadPhotos().then(function (failure) { return failure || result; });
  }

  function send() {
    if (visitSaved) return sendPhotos({ status: 200 });
    var built = serialise();
    if (built.problems.length) return Promise.resolve({ status: -1, problems: built.problems });
    submitButton.textContent = "正在提交…";
    return postVisit(built.payload).then(function (result) {
      if (result.status === 201 || result.status === 200) {
        visitSaved = true;
      } else if (result.status === 409) {
        // The first try reached the server before the network failed, and the form changed since.
        visitSaved = true;
        result.conflict = true;
      } else {
        return result;
      }
      fields.disabled = true;  // saved: later edits would not be sent, so do not invite them
      return sendPhotos(result);
    });
  }

  function setBusy(value) {
    busy = value;
    submitButton.disabled = value;
    photoInputs.forEach(function (input) { input.disabled = value; });  // a photo added mid-upload would be left behind
  }

  function submit(event) {
    event.preventDefault();
    if (busy) return;  // a double tap sends nothing twice
    setBusy(true);
    clearFieldErrors();
    say("");
    processing.then(send).then(function (result) {
      setBusy(false);
      if (result.status === -1) {
        showFieldErrors(result.problems);
        submitButton.textContent = visitSaved ? "重新提交" : "提交走访";
      } else if (result.conflict) {
        say("这次走访之前已经保存过，但内容与现在填写的不同：保存的是第一次送达的内容。照片已补传。");
        submitButton.hidden = true;
        leaveLink.hidden = false;
      } else if (result.status === 200 || result.status === 201) {
        finish();
      } else {
        fail(result);
      }
    }).catch(function () {
      setBusy(false);
      submitButton.textContent = "重新提交";
      say("出了点问题，内容都还在，请点“重新提交”");
    });
  }

  watchLocation();
  setUpNeeds();
  setUpPhotos();
  form.addEventListener("submit", submit);
})();
