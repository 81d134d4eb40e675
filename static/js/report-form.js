/* 兜底通 上报疑似困难户: the report is kept on the phone first (the outbox), then sent through the API — the record,
   then its photo — now or when the signal is back; it is deleted from the phone only once the server confirmed it.
   As the offline shell the villages come from the phone's pack. No inline scripts (CSP). */
(function () {
  "use strict";
  var form = document.querySelector("[data-report-form]");
  if (!form) return;
  var store = window.DoudiStore;
  var outbox = window.DoudiOutbox;
  var pack = window.DoudiPack;
  var message = form.querySelector("[data-report-message]");
  var button = form.querySelector("[data-report-submit]");
  var SEND_WAIT_MS = 8000;
  var busy = false;

  function say(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  // The offline shell has no villages: the pack knows the assistant's own (its meta names them).
  function fillVillages() {
    var select = form.elements.area_code;
    if (select.options.length || !pack) return Promise.resolve();
    return pack.meta().then(function (meta) {
      var villages = (meta && meta.villages) || {};
      Object.keys(villages).sort().forEach(function (code) {
        var option = document.createElement("option");
        option.value = code;
        option.textContent = villages[code];
        select.appendChild(option);
      });
      if (!select.options.length) say("手机上还没有离线资料，不知道您负责的村：请有信号时再上报");
    }).catch(function () {});
  }

  function problems(v) {
    var list = [];
    if (!v.name) list.push("请填写姓名");
    if (!v.area_code) list.push("请选择村（社区）");
    if (!v.description) list.push("请写下看到的情况");
    return list;
  }

  function done(uuid) {
    form.hidden = true;
    var box = document.querySelector("[data-report-done]");
    var text = box.querySelector("[data-report-done-text]");
    if (outbox.wasSent(uuid)) text.textContent = "已上报，乡镇将核实。";
    box.hidden = false;
  }

  form.addEventListener("submit", function (event) {
    if (!outbox || !store || !store.available()) return;  // the page posts itself: the server checks it
    event.preventDefault();
    if (busy) return;  // a double tap reports nothing twice
    var v = {
      uuid: form.elements.uuid.value || window.DoudiPhotos.uuid4(),
      name: form.elements.name.value.trim(),
      area_code: form.elements.area_code.value,
      description: form.elements.description.value.trim()
    };
    var wrong = problems(v);
    if (wrong.length) { say(wrong.join("；")); return; }
    say("");
    busy = true;
    button.disabled = true;
    button.textContent = "正在保存…";
    form.elements.uuid.value = v.uuid;
    var file = form.elements.photo.files[0];
    var photo = file ? window.DoudiPhotos.shrink(file).catch(function () { return null; }) : Promise.resolve(null);
    photo.then(function (blob) {
      if (file && !blob) throw new Error("photo");
      return outbox.add({
        uuid: v.uuid,
        kind: "candidate",
        label: v.name,
        payload: v,
        photos: blob ? [{ uuid: window.DoudiPhotos.uuid4(), blob: blob, caption: null, done: false }] : []
      });
    }).then(function () {
      if (!navigator.onLine) return null;
      button.textContent = "已存入手机，正在上传…";
      return Promise.race([outbox.sync(), new Promise(function (resolve) { setTimeout(resolve, SEND_WAIT_MS); })]);
    }).then(function () {
      done(v.uuid);
    }).catch(function (error) {
      busy = false;
      button.disabled = false;
      button.textContent = "上报";
      if (error && error.message === "photo") { say("这张照片打不开，请换一张或不带照片上报"); return; }
      say(store.isFull(error) ? store.FULL_MESSAGE : "这台手机没能把上报存下来，请有信号时再试");
    });
  });

  fillVillages();
})();
