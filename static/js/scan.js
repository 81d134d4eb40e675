/* 兜底通 scanner: read a card's QR with the camera or from a photo, and open its household. No inline scripts (CSP). */
(function () {
  "use strict";
  var root = document.querySelector("[data-scanner]");
  if (!root) return;

  // A card's QR holds {PUBLIC_BASE_URL}/h/<token>; the host may differ from this one, the path may not.
  var CARD_PATH = /^\/h\/[A-Za-z0-9_-]{20,64}$/;
  var SCAN_INTERVAL_MS = 200;  // five tries a second: quick enough, and a cheap phone stays cool
  var FOREIGN_MESSAGE_MS = 3000;
  var PHOTO_LONG_EDGE = 1200;  // a 12-megapixel photo is shrunk before decoding: faster, and big enough
  var video = root.querySelector("video");
  var statusLine = root.querySelector("[data-status]");
  var startButton = root.querySelector("[data-start]");
  var photoInput = root.querySelector("[data-photo]");
  var deliver = root.getAttribute("data-mode") === "deliver";
  var idleText = statusLine.getAttribute("data-idle");
  var scanningText = deliver ? "发卡模式：对准服务卡上的二维码" : "对准服务卡上的二维码，自动识别";
  var stream = null;
  var timer = null;
  var resetTimer = null;
  var decoderPromise = null;

  function setState(state) {
    root.setAttribute("data-state", state);
    startButton.textContent = state === "scanning" ? "停止扫码" : state === "no-camera" ? "重新打开摄像头" : "开始扫码";
    startButton.disabled = state === "starting" || state === "found";
  }

  function say(text, tone) {
    statusLine.textContent = text;
    statusLine.className = "scanner__status" + (tone ? " scanner__status--" + tone : "");
  }

  function cardPath(text) {
    var url;
    try {
      url = new URL(String(text).trim());
    } catch (error) {
      return null;
    }
    if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    return CARD_PATH.test(url.pathname) ? url.pathname : null;
  }

  // ---- decoders: the phone's own BarcodeDetector, else the vendored qr-scanner ----

  function nativeDecoder() {
    var detector = new window.BarcodeDetector({ formats: ["qr_code"] });
    return {
      name: "barcode-detector",
      scan: function (source) {
        return detector.detect(source).then(function (codes) {
          return codes.map(function (code) { return code.rawValue; });
        });
      }
    };
  }

  function qrScannerDecoder() {
    if (!window.QrScanner) throw new Error("qr-scanner is not loaded");
    // Our own worker file: qr-scanner would start a blob: worker, which the CSP forbids.
    var worker = new Worker(root.getAttribute("data-worker"));
    var canvas = document.createElement("canvas");
    return {
      name: "qr-scanner",
      scan: function (source, region) {
        var options = { qrEngine: worker, canvas: canvas, scanRegion: region, returnDetailedScanResult: true };
        return window.QrScanner.scanImage(source, options).then(function (result) {
          return [result.data];
        }, function (error) {
          if (error === window.QrScanner.NO_QR_CODE_FOUND) return [];
          throw error;
        });
      }
    };
  }

  function supportsNative() {
    if (root.getAttribute("data-decoder") === "qr-scanner" || !("BarcodeDetector" in window)) {
      return Promise.resolve(false);
    }
    if (!window.BarcodeDetector.getSupportedFormats) return Promise.resolve(true);
    return window.BarcodeDetector.getSupportedFormats().then(function (formats) {
      return formats.indexOf("qr_code") >= 0;
    }, function () { return false; });
  }

  function chooseDecoder() {
    if (!decoderPromise) {
      decoderPromise = supportsNative().then(function (native) {
        var decoder = native ? nativeDecoder() : qrScannerDecoder();
        root.setAttribute("data-decoder-used", decoder.name);
        return decoder;
      });
      decoderPromise.catch(function () { decoderPromise = null; });  // let a later tap try again
    }
    return decoderPromise;
  }

  // The middle two thirds of the frame, as qr-scanner's own camera mode does: the card is held there.
  function centreRegion(width, height) {
    var side = Math.round(Math.min(width, height) * 2 / 3);
    return {
      x: Math.round((width - side) / 2), y: Math.round((height - side) / 2), width: side, height: side,
      downScaledWidth: 400, downScaledHeight: 400
    };
  }

  function wholeRegion(width, height) {
    var scale = Math.min(1, PHOTO_LONG_EDGE / Math.max(width, height));
    return {
      x: 0, y: 0, width: width, height: height,
      downScaledWidth: Math.round(width * scale), downScaledHeight: Math.round(height * scale)
    };
  }

  // ---- what a decoded QR means ----

  function recognise(texts) {
    for (var i = 0; i < texts.length; i++) {
      var path = cardPath(texts[i]);
      if (path) {
        openCard(path);
        return true;
      }
    }
    if (texts.length) notOurCard();
    return false;
  }

  function openCard(path) {
    stop();
    setState("found");
    say("已识别服务卡，正在打开…", "ok");
    if (navigator.onLine || !window.DoudiPack || deliver) {
      window.location.assign(path + (deliver ? "?deliver=1" : ""));
      return;
    }
    // No signal: the card's token, hashed, is looked up in the phone's own pack (the token itself is never kept).
    window.DoudiPack.byToken(path.slice(3)).then(function (household) {
      if (household) window.location.assign("/households/" + household.id);
      else {
        setState("idle");
        say("没有信号，手机上的离线资料里也没有这张卡（可能不是本村的卡）。有信号后再扫。", "error");
      }
    }, function () {
      setState("idle");
      say("没有信号，离线资料打不开。有信号后再扫。", "error");
    });
  }

  function notOurCard() {
    say("这不是兜底通服务卡", "error");
    window.clearTimeout(resetTimer);
    resetTimer = window.setTimeout(function () {
      if (stream) say(scanningText);
    }, FOREIGN_MESSAGE_MS);
  }

  // ---- the camera ----

  function start() {
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
      noCamera(null);
      return;
    }
    setState("starting");
    say("正在打开摄像头…");
    chooseDecoder().then(function (decoder) {
      return navigator.mediaDevices.getUserMedia({ video: { facingMode: "environment" }, audio: false })
        .then(function (media) {
          stream = media;
          video.srcObject = media;
          return video.play();
        })
        .then(function () {
          setState("scanning");
          say(scanningText);
          scanSoon(decoder);
        }, noCamera);
    }, decoderMissing);
  }

  function scanSoon(decoder) {
    timer = window.setTimeout(function () {
      if (!stream) return;
      if (video.readyState < 2 || !video.videoWidth) {
        scanSoon(decoder);
        return;
      }
      decoder.scan(video, centreRegion(video.videoWidth, video.videoHeight)).then(function (texts) {
        if (stream && !recognise(texts)) scanSoon(decoder);
      }, function () {
        if (stream) scanSoon(decoder);
      });
    }, SCAN_INTERVAL_MS);
  }

  function stop() {
    window.clearTimeout(timer);
    timer = null;
    if (stream) {
      stream.getTracks().forEach(function (track) { track.stop(); });
      stream = null;
    }
    video.srcObject = null;
  }

  function noCamera(error) {
    stop();
    setState("no-camera");
    var name = error && error.name;
    var problem = !error ? "这个浏览器不能直接打开摄像头（有的手机在微信里会这样）。"
      : name === "NotAllowedError" || name === "SecurityError" ? "没有允许使用摄像头。"
      : name === "NotFoundError" || name === "OverconstrainedError" ? "没有找到摄像头。"
      : name === "NotReadableError" ? "摄像头正被别的应用占用。"
      : "摄像头打不开。";
    say(problem + "请点“拍照识别”拍下服务卡，或在下面输入户号。", "error");
  }

  function decoderMissing() {
    setState("idle");
    say("扫码功能没有加载好，请刷新页面，或在下面输入户号。", "error");
  }

  // ---- a photo, when the camera cannot be used here ----

  function readPhoto(file) {
    if (window.createImageBitmap) {
      return window.createImageBitmap(file).then(function (bitmap) {
        return { source: bitmap, width: bitmap.width, height: bitmap.height };
      });
    }
    return new Promise(function (resolve, reject) {  // older phones: an <img> from a blob: URL (the CSP allows it)
      var image = new Image();
      var url = URL.createObjectURL(file);
      image.onload = function () {
        URL.revokeObjectURL(url);
        resolve({ source: image, width: image.naturalWidth, height: image.naturalHeight });
      };
      image.onerror = function () {
        URL.revokeObjectURL(url);
        reject(new Error("not an image"));
      };
      image.src = url;
    });
  }

  function scanPhoto(file) {
    stop();
    setState("photo");
    say("正在识别照片…");
    chooseDecoder().then(function (decoder) {
      return readPhoto(file).then(function (photo) {
        return decoder.scan(photo.source, wholeRegion(photo.width, photo.height));
      }).then(function (texts) {
        if (!texts.length) say("照片里没有找到二维码。请把二维码拍清楚、拍大一些再试。", "error");
        else recognise(texts);
      }, function () {
        say("这张照片识别不了，请重拍一张，或在下面输入户号。", "error");
      });
    }, decoderMissing).then(function () {
      photoInput.value = "";  // choosing the same photo again must fire "change" again
      if (root.getAttribute("data-state") === "photo") setState("idle");
    });
  }

  startButton.addEventListener("click", function () {
    if (stream) {
      stop();
      setState("idle");
      say(idleText);
    } else {
      start();
    }
  });
  // The camera starts at once when the phone has already allowed it (else one tap, as the browser asks).
  if (navigator.permissions && navigator.permissions.query) {
    navigator.permissions.query({ name: "camera" }).then(function (permission) {
      if (permission.state === "granted" && !stream && root.getAttribute("data-state") === "idle") start();
    }, function () { /* this browser cannot tell: one tap */ });
  }
  // No signal: the household number is looked up in the phone's pack instead of on the server.
  var numberForm = document.querySelector("[data-number-entry]");
  if (numberForm) {
    numberForm.addEventListener("submit", function (event) {
      if (navigator.onLine || !window.DoudiPack) return;
      event.preventDefault();
      var number = numberForm.elements.no.value.trim();
      window.DoudiPack.search(number).then(function (found) {
        var same = found.filter(function (h) { return window.DoudiPack.sameNumber(h.no, number); });
        if (same.length === 1) window.location.assign("/households/" + same[0].id);
        else if (same.length > 1) window.location.assign("/households/?q=" + encodeURIComponent(number));
        else say("没有信号，手机上的离线资料里没有户号 " + number, "error");
      });
    });
  }
  photoInput.addEventListener("change", function () {
    if (photoInput.files && photoInput.files[0]) scanPhoto(photoInput.files[0]);
  });
  // Leaving the page, or putting the phone away, turns the camera off.
  window.addEventListener("pagehide", stop);
  document.addEventListener("visibilitychange", function () {
    if (document.hidden && stream) {
      stop();
      setState("idle");
      say("已暂停，点“开始扫码”继续");
    }
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {  // back from the household page: the camera was turned off on the way out
      setState("idle");
      say(idleText);
    }
  });
})();
