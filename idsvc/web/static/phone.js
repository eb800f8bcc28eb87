/* The member's phone page: close buttons, the expiry countdown, and the capture view
 * (camera preview in an oval → 3-2-1 → 3 s recording with a ring → upload with progress → the outcome).
 * No framework. The reason texts come from /static/idsvc-reasons.js (generated from idsvc/web/reasons.py). */
(function () {
  "use strict";
  var $ = function (id) { return document.getElementById(id); };
  var T = window.IdsvcReasons || {reasons: {}, fallback: {title: "无法继续", steps: [], advice: "", kind: "end"}};
  var page = window.IdsvcPage || {};
  var t0 = performance.now();
  var deadline = typeof page.expiresIn === "number" ? t0 + page.expiresIn * 1000 : null;

  function reason(code) { return T.reasons[code] || T.fallback; }
  function secondsLeft() { return deadline === null ? Infinity : Math.max(0, (deadline - performance.now()) / 1000); }
  function mmss(sec) { sec = Math.ceil(sec); return Math.floor(sec / 60) + ":" + String(sec % 60).padStart(2, "0"); }

  // -- 关闭: WeChat's bridge where present, else the browser (which may refuse: then say how) --------------
  function closePage() {
    if (window.WeixinJSBridge && window.WeixinJSBridge.call) { window.WeixinJSBridge.call("closeWindow"); return; }
    window.close();
    setTimeout(function () {
      var help = document.querySelector("#end-slot .help, .help");
      if (help && !document.hidden) help.textContent = "请点击左上角的“×”或“返回”关闭本页面。";
    }, 300);
  }
  document.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-close]");
    if (t) { e.preventDefault(); closePage(); }
  });

  // -- End view rendered in the page (same markup as the server's end pages) ----------------------------
  function showEnd(code, info) {
    info = info || {};
    stopCamera();
    clearInterval(timer);
    var r = reason(code), last = null;
    if (r.kind === "retry") { last = r; r = reason("attempts_exhausted"); }
    var tpl = $("end-template");
    var slot = $("end-slot");
    var status = $("status");
    if (!tpl || !slot) { location.reload(); return; }
    slot.innerHTML = tpl.innerHTML;
    var end = slot.querySelector("#end");
    end.dataset.code = code;
    end.dataset.kind = r.kind;
    var icon = end.querySelector(".icon");
    icon.className = "icon" + (r.kind === "ok" ? " ok" : "");
    icon.textContent = r.kind === "ok" ? "✓" : "!";
    end.querySelector("#end-title").textContent = r === T.fallback && info.message ? info.message : r.title;
    var ol = end.querySelector("#end-steps");
    ol.innerHTML = "";
    r.steps.forEach(function (s) { var li = document.createElement("li"); li.textContent = s; ol.appendChild(li); });
    if (last) {
      var p = document.createElement("p");
      p.className = "lead"; p.id = "end-last"; p.textContent = "最后一次的原因：" + last.title;
      end.querySelector("#end-title").after(p);
    }
    var h2 = end.querySelector("h2");
    if (h2) h2.textContent = r.kind === "ok" ? "接下来" : "接下来请这样做";
    end.querySelector("#code").textContent = code;
    var tech = end.querySelector("#tech");
    ["tech-message", "tech-en"].forEach(function (id) { var n = tech.querySelector("#" + id); if (n) n.remove(); });
    if (info.message) { var m = document.createElement("p"); m.id = "tech-message"; m.textContent = info.message; tech.appendChild(m); }
    if (info.message_en) { var en = document.createElement("p"); en.id = "tech-en"; en.lang = "en"; en.textContent = info.message_en; tech.appendChild(en); }
    if (status) status.remove();
    var top = $("remaining-top"); if (top) top.textContent = "";
    document.body.dataset.verify = code === "verified" ? "verified" : (info.status || "failed");
    document.body.dataset.end = code;
    window.scrollTo(0, 0);
  }

  // -- Expiry countdown (server's remaining seconds, so a wrong phone clock does not matter) ------------
  var timer = null;
  var onExpire = [], onTick = [];
  function tick() {
    var left = secondsLeft();
    var text = left === Infinity ? "" : "剩余 " + mmss(left);
    ["remaining", "remaining-top"].forEach(function (id) {
      var el = $(id);
      if (el) { el.textContent = text; el.classList.toggle("low", left <= 60); el.dataset.left = String(Math.ceil(left)); }
    });
    onTick.forEach(function (f) { f(left); });
    if (left <= 0) { clearInterval(timer); onExpire.forEach(function (f) { f(); }); }
  }
  if (deadline !== null && ["pending", "scanned", "confirmed", "verifying"].indexOf(page.status) >= 0) {
    timer = setInterval(tick, 500);
    tick();
    onExpire.push(function () { if (!busyUploading()) showEnd("session_expired", {status: "expired"}); });
  }

  // -- The capture view ----------------------------------------------------------------------------------
  var cfgEl = $("capture-config");
  var cfg = cfgEl ? JSON.parse(cfgEl.textContent) : null;
  var stream = null, recorder = null, lastUpload = null, xhr = null, feedbackTimer = null, stepTimers = [];
  var phase = "";
  function busyUploading() { return phase === "uploading" || phase === "verifying"; }
  function stopCamera() {
    clearInterval(feedbackTimer);
    stepTimers.forEach(clearTimeout); stepTimers = [];
    if (recorder && recorder.state !== "inactive") { recorder.onstop = null; try { recorder.stop(); } catch (e) { /* already stopped */ } }
    if (stream) stream.getTracks().forEach(function (t) { t.stop(); });
    stream = null;
    var flash = $("flash"); if (flash) flash.classList.add("hidden");
  }
  if (!cfg) return;

  var capture = $("capture"), button = $("record"), reup = $("reupload"), text = $("phase-text");
  var progress = $("progress"), video = $("preview"), retryCard = $("retry-card"), fallback = $("fallback");
  var MIN_SECONDS = cfg.recordSeconds + 3 + 2; // countdown + recording + a margin for the upload to start

  function setPhase(p, message) {
    if (phase !== p) document.body.dataset.trail = ((document.body.dataset.trail || "") + " " + p).trim();
    phase = p;
    capture.dataset.phase = p;
    document.body.dataset.phase = p;
    if (message !== undefined) text.textContent = message;
    var recording = p === "countdown" || p === "recording";
    $("oval").classList.toggle("rec", p === "recording");
    $("recdot").classList.toggle("hidden", p !== "recording");
    $("countdown").classList.toggle("hidden", p !== "countdown");
    progress.classList.toggle("hidden", p !== "uploading" && p !== "verifying");
    reup.classList.toggle("hidden", p !== "neterror");
    button.classList.toggle("hidden", p === "neterror" || p === "retry");
    button.classList.toggle("busy", recording || p === "uploading" || p === "verifying" || p === "starting");
    button.disabled = p !== "ready";
    button.setAttribute("aria-disabled", String(p !== "ready"));
    $("file").disabled = p === "uploading" || p === "verifying";
    button.textContent = {
      starting: "正在打开摄像头…", ready: "开始录制", countdown: "准备…", recording: "录制中…",
      uploading: "正在上传…", verifying: "正在核验…", retry: "开始录制", fallback: "开始录制"
    }[p] || "开始录制";
    if (p === "ready" && secondsLeft() < MIN_SECONDS) {
      button.disabled = true; button.setAttribute("aria-disabled", "true");
      button.textContent = "时间不够了，请在电脑上刷新二维码";
    }
  }
  onTick.push(function (left) {
    if (phase === "ready" && left < MIN_SECONDS && !button.disabled) setPhase("ready");
  });
  function setProgress(fraction) {
    var pct = Math.max(0, Math.min(100, Math.round(fraction * 100)));
    progress.dataset.percent = String(pct);
    document.body.dataset.progress = String(pct);
    progress.setAttribute("aria-valuenow", String(pct));
    progress.firstElementChild.style.width = pct + "%";
    if (phase === "uploading") text.textContent = "正在上传 " + pct + "%";
  }
  function setAction(t) {
    $("instruction").textContent = t;
    $("fallback-action").textContent = t;
  }

  // -- Camera: enabled only once the preview shows a real frame (no fixed waits) -------------------------
  function firstFrame(v) {
    return new Promise(function (resolve, reject) {
      var done = false;
      var give = setTimeout(function () { if (!done) reject(new Error("no frames")); }, 15000);
      function ok() { if (!done) { done = true; clearTimeout(give); resolve(); } }
      if (v.requestVideoFrameCallback) v.requestVideoFrameCallback(ok);
      (function poll() {
        if (done) return;
        if (v.readyState >= 2 && v.videoWidth > 0 && v.currentTime > 0) ok(); else setTimeout(poll, 50);
      })();
    });
  }
  function startCamera() {
    fallback.classList.add("hidden");
    setPhase("starting", "正在打开摄像头…");
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia || !window.MediaRecorder) {
      showFallback("camera_missing"); return;
    }
    navigator.mediaDevices.getUserMedia({video: {facingMode: "user", width: {ideal: 720}}, audio: false})
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        var played = video.play();
        if (played && played.catch) played.catch(function () { /* autoplay of a muted stream is allowed */ });
        return firstFrame(video);
      })
      .then(function () {
        if (retryCard.classList.contains("hidden")) setPhase("ready", "准备好后，点击“开始录制”");
        else setPhase("retry", "请看上面的提示");
        startFeedback();
      })
      .catch(function (e) {
        var denied = e && (e.name === "NotAllowedError" || e.name === "SecurityError" || e.name === "PermissionDeniedError");
        showFallback(denied ? "camera_denied" : "camera_missing");
      });
  }
  function showFallback(code) {
    stopCamera();
    var r = reason(code);
    $("fallback-title").textContent = r.title;
    var ol = $("fallback-steps"); ol.innerHTML = "";
    r.steps.forEach(function (s) { var li = document.createElement("li"); li.textContent = s; ol.appendChild(li); });
    fallback.dataset.reason = code;
    $("camera-again").classList.toggle("hidden", code !== "camera_denied");
    fallback.classList.remove("hidden");
    setPhase("fallback", "也可以用系统相机录制后上传");
    button.classList.add("hidden");
  }

  // Cheap framing hints from the preview (never trusted by the server): brightness, and a face box where
  // the browser has a FaceDetector.
  function startFeedback() {
    var canvas = document.createElement("canvas"), ctx = canvas.getContext("2d", {willReadFrequently: true});
    canvas.width = 48; canvas.height = 64;
    var detector = null;
    try { if (window.FaceDetector) detector = new window.FaceDetector({fastMode: true, maxDetectedFaces: 2}); } catch (e) { detector = null; }
    var out = $("feedback");
    clearInterval(feedbackTimer);
    feedbackTimer = setInterval(function () {
      if (phase !== "ready" || !video.videoWidth) return;
      ctx.drawImage(video, 0, 0, canvas.width, canvas.height);
      var d = ctx.getImageData(0, 0, canvas.width, canvas.height).data, sum = 0;
      for (var i = 0; i < d.length; i += 4) sum += 0.299 * d[i] + 0.587 * d[i + 1] + 0.114 * d[i + 2];
      var luma = sum / (d.length / 4);
      out.dataset.luma = String(Math.round(luma));
      if (luma < 50) { out.textContent = "光线太暗，请到亮一点的地方"; return; }
      if (!detector) { out.textContent = "光线充足，摘下口罩，把脸放在框内"; return; }
      detector.detect(video).then(function (faces) {
        if (phase !== "ready") return;
        if (!faces.length) out.textContent = "请把脸放进框内";
        else if (faces.length > 1) out.textContent = "画面里只能有您一个人";
        else if (faces[0].boundingBox.width < video.videoWidth * 0.3) out.textContent = "请把手机拿近一些";
        else out.textContent = "很好，请保持不动";
      }).catch(function () { detector = null; });
    }, 500);
  }

  // -- Record: 3-2-1, then the recording with the prompts at their times and a ring with seconds left ----
  function pickType() {
    var types = ["video/mp4", "video/webm;codecs=vp8", "video/webm"];
    for (var i = 0; i < types.length; i++) if (window.MediaRecorder && MediaRecorder.isTypeSupported(types[i])) return types[i];
    return "";
  }
  function countdown(n, then) {
    if (phase !== "countdown") return;
    if (n === 0) { then(); return; }
    var el = $("countdown");
    el.textContent = String(n); el.dataset.n = String(n);
    document.body.dataset.countdownSeen = (document.body.dataset.countdownSeen || "") + n;
    setTimeout(function () { countdown(n - 1, then); }, 1000);
  }
  function runSteps(steps) {
    var flash = $("flash");
    steps.forEach(function (step) {
      stepTimers.push(setTimeout(function () {
        if (step.text) setAction(step.text);
        if (step.color) { flash.style.background = step.color; flash.classList.remove("hidden"); document.body.dataset.flash = step.color; }
        else if ("color" in step) { flash.classList.add("hidden"); delete document.body.dataset.flash; }
      }, Math.max(0, (step.at || 0) * 1000)));
    });
  }
  function record() {
    if (phase !== "ready" || !stream) return;
    if (secondsLeft() < MIN_SECONDS) { setPhase("ready"); return; }
    delete document.body.dataset.verify;
    setPhase("countdown", "请看着屏幕，准备做动作");
    countdown(3, function () {
      if (!stream) return;
      var type = pickType();
      var chunks = [];
      try { recorder = new MediaRecorder(stream, type ? {mimeType: type} : undefined); }
      catch (e) { showFallback("camera_missing"); return; }
      recorder.ondataavailable = function (e) { if (e.data && e.data.size) chunks.push(e.data); };
      recorder.onstart = function () {
        // The clock of the recording starts when the recorder does, not when the button was tapped.
        setPhase("recording", "录制中，请按上面的提示做");
        runSteps(cfg.steps);
        var started = performance.now();
        var left = $("rec-left");
        (function ring() {
          if (phase !== "recording") return;
          var remaining = Math.max(0, cfg.recordSeconds - (performance.now() - started) / 1000);
          left.textContent = String(Math.ceil(remaining));
          if (remaining > 0) setTimeout(ring, 100);
        })();
        setTimeout(function () { if (recorder && recorder.state === "recording") recorder.stop(); }, cfg.recordSeconds * 1000);
      };
      recorder.onstop = function () {
        stepTimers.forEach(clearTimeout); stepTimers = [];
        $("flash").classList.add("hidden");
        var mime = recorder.mimeType || type || "video/webm";
        upload(new Blob(chunks, {type: mime}), mime.indexOf("mp4") >= 0 ? "video.mp4" : "video.webm");
      };
      recorder.start(250);
    });
  }

  // -- Upload: progress, timeout, the same recording again after a network error, never twice at once ----
  function upload(blob, name) {
    if (xhr) return; // one upload at a time
    lastUpload = {blob: blob, name: name};
    delete document.body.dataset.verify;
    retryCard.classList.add("hidden");
    setPhase("uploading", "正在上传 0%");
    setProgress(0);
    var form = new FormData();
    form.append("video", blob, name);
    var req = xhr = new XMLHttpRequest();
    req.open("POST", cfg.uploadUrl);
    req.setRequestHeader("X-CSRF-Token", document.querySelector('meta[name="csrf-token"]').content);
    req.setRequestHeader("Accept", "application/json");
    req.timeout = cfg.uploadTimeout * 1000;
    req.upload.onprogress = function (e) { if (e.lengthComputable) setProgress(e.loaded / e.total); };
    req.upload.onload = function () { setProgress(1); setPhase("verifying", "正在核验，通常需要 2 到 5 秒…"); };
    req.onerror = req.ontimeout = req.onabort = function () { xhr = null; networkError(); };
    req.onload = function () {
      xhr = null;
      var body = null;
      try { body = JSON.parse(req.responseText); } catch (e) { body = null; }
      if (!body || req.status >= 500) { networkError(); return; } // a proxy's HTML page, a 502/503/504
      if (req.status >= 400) { uploadRefused(req.status, body.error || {}); return; }
      outcome(body);
    };
    req.send(form);
  }
  function networkError() {
    setPhase("neterror", "网络不稳定，视频没有传上去。录好的视频还在，不占用次数。");
    document.body.dataset.verify = "neterror";
  }
  function uploadRefused(status, err) {
    var code = err.code || "internal_error";
    var r = reason(code);
    if (code === "verification_in_progress" || code === "invalid_state") { setPhase("verifying", "正在核验…"); setTimeout(function () { location.reload(); }, 2000); return; }
    if (r.kind === "retry") { showRetry(code, cfg.attemptsLeft, null); return; }
    showEnd(code, {message: err.message, message_en: err.message_en, status: status === 410 ? "expired" : "failed"});
  }
  // 202: a queue worker analyses the video; long-poll the session until it is decided.
  function awaitDecision(body) {
    var req = new XMLHttpRequest();
    req.open("GET", cfg.followUrl + "?wait=25&version=" + body.version);
    req.setRequestHeader("Accept", "application/json");
    req.timeout = 35000;
    req.onload = function () {
      var s = null;
      try { s = JSON.parse(req.responseText); } catch (e) { s = null; }
      if (!s || req.status >= 500) { setTimeout(function () { awaitDecision(body); }, 2000); return; }
      if (req.status >= 400) { uploadRefused(req.status, s.error || {}); return; }
      if (s.status === "verifying") { awaitDecision(s); return; }
      outcome(s);
    };
    req.onerror = req.ontimeout = function () { setTimeout(function () { awaitDecision(body); }, 2000); };
    req.send();
  }
  function outcome(body) {
    if (body.status === "verifying") { setPhase("verifying", "正在核验，通常需要 2 到 5 秒…"); awaitDecision(body); return; }
    if (body.status === "verified") { showEnd("verified", {status: "verified"}); return; }
    if (body.status === "confirmed") {
      cfg.attemptsLeft = body.attempts_left;
      if (body.instruction) { cfg.steps = body.steps || [{at: 0, text: body.instruction}]; setAction(body.instruction); $("instruction").dataset.challenge = body.challenge || ""; }
      if (body.expires_in !== undefined) deadline = performance.now() + body.expires_in * 1000;
      showRetry(body.reason, body.attempts_left, body.instruction);
      return;
    }
    showEnd(body.reason || "verification_failed", {message: body.message, message_en: body.message_en, status: body.status});
  }
  function showRetry(code, left, next) {
    var r = reason(code);
    $("retry-reason").textContent = r.title;
    $("retry-advice").textContent = r.advice;
    $("retry-next").textContent = next || $("instruction").textContent;
    $("retry-button").textContent = "再试一次（还剩 " + left + " 次）";
    retryCard.dataset.reason = code || "";
    retryCard.classList.remove("hidden");
    document.body.dataset.verify = "retry";
    if (!stream) { startCamera(); return; }
    setPhase("retry", "请看上面的提示");
  }

  button.addEventListener("click", record);
  reup.addEventListener("click", function () { if (lastUpload && phase === "neterror") upload(lastUpload.blob, lastUpload.name); });
  $("retry-button").addEventListener("click", function () {
    retryCard.classList.add("hidden");
    if (stream) setPhase("ready", "准备好后，点击“开始录制”"); else startCamera();
  });
  $("camera-again").addEventListener("click", startCamera);
  $("file").addEventListener("change", function (e) {
    var f = e.target.files && e.target.files[0];
    if (f && !xhr) upload(f, f.name);
    e.target.value = "";
  });

  // -- Follow the session while the page is open (a status change elsewhere ends the view) ---------------
  function follow(version) {
    var req = new XMLHttpRequest();
    req.open("GET", cfg.followUrl + "?wait=25&version=" + version);
    req.setRequestHeader("Accept", "application/json");
    req.timeout = 35000;
    req.onload = function () {
      var s = null;
      try { s = JSON.parse(req.responseText); } catch (e) { s = null; }
      if (req.status === 404 || req.status === 405 || !s) return; // the server does not offer it: the countdown still runs
      if (req.status >= 400) { if (s.error && s.error.code === "session_expired" && !busyUploading()) showEnd("session_expired", {status: "expired"}); return; }
      if (typeof s.expires_in === "number") deadline = performance.now() + s.expires_in * 1000;
      if (!busyUploading()) {
        if (s.status === "expired" || s.status === "cancelled") { showEnd("session_" + s.status, {status: s.status}); return; }
        if (s.status === "failed") { showEnd(s.reason || s.failure_reason || "verification_failed", {status: "failed"}); return; }
        if (s.status === "verified") { showEnd("verified", {status: "verified"}); return; }
      }
      setTimeout(function () { follow(s.version || version); }, 200);
    };
    req.onerror = req.ontimeout = function () { setTimeout(function () { follow(version); }, 3000); };
    req.send();
  }

  if (cfg.status === "verifying") {
    setPhase("verifying", "正在核验…");
    progress.classList.add("hidden");
    setTimeout(function () { location.reload(); }, 3000);
  } else {
    if (!retryCard.classList.contains("hidden")) {
      $("retry-button").textContent = "再试一次（还剩 " + cfg.attemptsLeft + " 次）";
    }
    startCamera();
  }
  follow(cfg.version);
})();
