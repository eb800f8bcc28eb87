/* idsvc desktop widget: IdsvcQr.mount(element, {sessionUrl, pollToken, qrUrl, matchCode, expiresAt,
 *   onVerified, onFailed, onExpired, onChange, refresh}) → {refresh(), destroy(), state()}; the options may
 *   be the create-session answer itself, an error answer included ({error: {code, message}}).
 * Shows the QR, follows the session (its event stream; long-polls where streams cannot be used), replaces the QR with a status panel once scanned (✓/✗, colours,
 * plain Chinese for every reason from /static/idsvc-reasons.js), and on expiry overlays "二维码已失效，点击刷新",
 * which calls the portal's refresh() for a new session. No framework, no build step. */
(function (global) {
  "use strict";
  var script = document.currentScript;
  var base = script && script.src ? script.src.replace(/[^/]*$/, "") : "/static/";
  var FINAL = {verified: 1, failed: 1, expired: 1, cancelled: 1};
  var CSS = ".idsvc-qr{font-family:-apple-system,'PingFang SC','Microsoft YaHei','Noto Sans CJK SC',sans-serif;color:#1f2328;" +
    "min-width:280px;min-height:330px;text-align:center;font-size:16px;line-height:1.5}" +
    ".idsvc-qr .q{position:relative;display:inline-block;margin:0 auto}" +
    ".idsvc-qr img{display:block;min-width:200px;min-height:200px;image-rendering:pixelated;border:1px solid #d1d5db;border-radius:8px}" +
    ".idsvc-qr .ov{position:absolute;inset:0;display:flex;flex-direction:column;align-items:center;justify-content:center;gap:8px;" +
    "background:rgba(255,255,255,.94);border:2px solid #1f2328;border-radius:8px;font:inherit;font-size:18px;font-weight:700;color:#1f2328;cursor:pointer;width:100%}" +
    ".idsvc-qr .ov span.r{font-size:40px;line-height:1}" +
    ".idsvc-qr .t{font-size:18px;font-weight:700;margin:12px 0 4px}.idsvc-qr .s{color:#4b5563;margin:4px 0}" +
    ".idsvc-qr .ic{width:88px;height:88px;border-radius:50%;margin:24px auto 8px;display:flex;align-items:center;justify-content:center;" +
    "font-size:52px;font-weight:700;color:#fff;background:#1f2937}" +
    ".idsvc-qr.ok .ic{background:#067a3e}.idsvc-qr.ok .t{color:#067a3e}.idsvc-qr.bad .ic{background:#b42318}.idsvc-qr.bad .t{color:#b42318}" +
    ".idsvc-qr .n{font-size:56px;font-weight:800;letter-spacing:6px;color:#067a3e;margin:4px 0}" +
    ".idsvc-qr button.b{min-height:44px;padding:8px 20px;margin-top:12px;font:inherit;font-weight:600;border-radius:8px;border:0;background:#067a3e;color:#fff;cursor:pointer}" +
    ".idsvc-qr .sp{width:40px;height:40px;border:5px solid #d1d5db;border-top-color:#067a3e;border-radius:50%;animation:idsvc-spin 1s linear infinite}" +
    "@keyframes idsvc-spin{to{transform:rotate(360deg)}}";
  var PHONE = '<svg width="40" height="52" viewBox="0 0 40 52" aria-hidden="true"><rect x="3" y="2" width="34" height="48" rx="6" ' +
    'fill="none" stroke="#fff" stroke-width="4"/><circle cx="20" cy="42" r="3" fill="#fff"/></svg>';
  var reasonsReady = null;

  function loadReasons() {
    if (global.IdsvcReasons) return Promise.resolve(global.IdsvcReasons);
    if (!reasonsReady) {
      reasonsReady = new Promise(function (resolve) {
        var s = document.createElement("script");
        s.src = base + "idsvc-reasons.js";
        s.onload = function () { resolve(global.IdsvcReasons); };
        s.onerror = function () { resolve(null); };
        document.head.appendChild(s);
      });
    }
    return reasonsReady;
  }
  function injectCss() {
    if (document.getElementById("idsvc-qr-css")) return;
    var st = document.createElement("style");
    st.id = "idsvc-qr-css"; st.textContent = CSS;
    document.head.appendChild(st);
  }
  function h(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined) e.textContent = text;
    return e;
  }
  // Accepts the options or a create-session response (session_id, poll_token, qr_png_url, match_code, expires_at).
  function normalise(o, apiBase) {
    o = o || {};
    var sid = o.session_id;
    return {
      sessionUrl: o.sessionUrl || (sid ? apiBase + "/v1/sessions/" + sid : ""),
      pollToken: o.pollToken || o.poll_token,
      qrUrl: o.qrUrl || o.qr_png_url,
      matchCode: o.matchCode || o.match_code,
      expiresAt: o.expiresAt || o.expires_at,
      // The portal may pass the create-session answer as it came, error included (e.g. a 429
      // verification_locked): the widget then says why there is no QR, and when to try again.
      error: o.error || null
    };
  }

  function mount(el, options) {
    injectCss();
    var apiBase = base.replace(/\/static\/$/, "");
    var opts = options || {};
    var cur = normalise(opts, apiBase);
    var R = null, gen = 0, last = null, blobUrl = null, timer = null;
    el.classList.add("idsvc-qr");
    el.setAttribute("role", "region");
    el.setAttribute("aria-live", "polite");

    function text(kind, code) {
      var t = R || {reasons: {}, states: {}, fallback: {desk: "验证未完成"}};
      if (kind === "reason") return (t.reasons[code] || t.fallback).desk;
      return t.states[code] || "";
    }
    function call(name, s) { if (typeof opts[name] === "function") { try { opts[name](s); } catch (e) { setTimeout(function () { throw e; }); } } }

    function qrImage() {
      var img = h("img");
      img.alt = "实名认证二维码，请用微信扫一扫";
      // Natural size: a QR scaled by a non-integer factor has uneven modules and reads worse.
      if (cur.qrUrl) img.src = cur.qrUrl;
      else if (cur.sessionUrl) {
        fetch(cur.sessionUrl + "/qr.png", {headers: {Authorization: "Bearer " + cur.pollToken}})
          .then(function (r) { return r.blob(); })
          .then(function (b) { if (blobUrl) URL.revokeObjectURL(blobUrl); blobUrl = URL.createObjectURL(b); img.src = blobUrl; });
      }
      return img;
    }
    function render(s) {
      last = s;
      var st = s.status;
      el.dataset.status = st;
      el.dataset.session = s.session_id || "";
      el.dataset.reason = s.failure_reason || s.last_reason || "";
      el.classList.toggle("ok", st === "verified");
      el.classList.toggle("bad", st === "failed");
      el.innerHTML = "";
      if (st === "pending" || st === "expired" || st === "cancelled") {
        var box = h("div", "q");
        box.appendChild(qrImage());
        if (st !== "pending") {
          var ov = h("button", "ov");
          ov.type = "button";
          ov.appendChild(h("span", "r", "↻"));
          ov.appendChild(h("span", "", st === "expired" ? "二维码已失效，点击刷新" : "已取消，点击刷新"));
          ov.onclick = refresh;
          box.appendChild(ov);
        }
        el.appendChild(box);
        el.appendChild(h("p", "t", st === "pending" ? "请使用微信扫一扫" : st === "expired" ? "二维码已失效" : text("state", st)));
        el.appendChild(h("p", "s", st === "pending" ? "扫码后按手机上的提示操作" : "为了安全，二维码只在几分钟内有效"));
        return;
      }
      var icon = {verified: "✓", failed: "✗"}[st];
      var ic = h("div", "ic", icon);
      if (st === "verifying") { ic.style.background = "none"; ic.appendChild(h("div", "sp")); }
      else if (!icon) ic.innerHTML = PHONE;
      el.appendChild(ic);
      if (st === "scanned") {
        el.appendChild(h("p", "t", "已扫码"));
        el.appendChild(h("p", "s", "请在手机上点击这个数字："));
        el.appendChild(h("p", "n", cur.matchCode || ""));
      } else if (st === "confirmed") {
        el.appendChild(h("p", "t", "请在手机上完成人脸识别"));
        el.appendChild(h("p", "s", "按手机上的提示录制 3 秒视频"));
        if (s.last_reason) {
          var left = Math.max(0, 3 - (s.attempts || 0));
          el.appendChild(h("p", "s", "上次未通过：" + text("reason", s.last_reason).replace(/，请在手机上.*$/, "") + "。手机上还可以再试 " + left + " 次"));
        }
      } else if (st === "verifying") {
        el.appendChild(h("p", "t", "正在核验，请稍候…"));
      } else if (st === "verified") {
        el.appendChild(h("p", "t", text("state", "verified")));
      } else if (st === "failed") {
        el.appendChild(h("p", "t", text("state", "failed")));
        el.appendChild(h("p", "s", text("reason", s.failure_reason || "verification_failed")));
        if (typeof opts.refresh === "function") {
          var again = h("button", "b", "重新扫码");
          again.type = "button"; again.onclick = refresh;
          el.appendChild(again);
        }
      }
    }
    function schedule(s) {
      clearTimeout(timer);
      if (FINAL[s.status] || !cur.expiresAt) return;
      var ms = Date.parse(s.expires_at || cur.expiresAt) - Date.now();
      if (ms > 0) timer = setTimeout(function () { if (last && !FINAL[last.status]) kick(); }, ms + 1500);
    }
    var ctl = null, kicked = false, streams = !!(global.ReadableStream && global.TextDecoder && global.AbortController);
    function kick() { kicked = true; if (ctl) ctl.abort(); }
    // One answer from the server; true once the session is final (nothing more to wait for).
    function handle(my, s) {
      if (my !== gen) return true;
      var changed = !last || s.status !== last.status || s.version !== last.version;
      if (changed) {
        render(s);
        schedule(s);
        call("onChange", s);
        if (s.status === "verified") call("onVerified", s);
        else if (s.status === "failed") call("onFailed", s);
        else if (s.status === "expired") call("onExpired", s);
      }
      return !!FINAL[s.status];
    }
    function gone(version) {
      return {status: "expired", session_id: last && last.session_id, version: version};
    }
    // The session's event stream (a few bytes every 20 s while nothing happens: the cheapest wait for
    // the server).  Where it cannot be used — an old browser, or a proxy that holds the stream back —
    // long-poll instead.
    function follow(my, version) {
      if (my !== gen) return;
      if (!streams) { poll(my, version); return; }
      ctl = new AbortController();
      kicked = false;
      var seen = version, quiet = null, failed = false;
      function watchdog() {  // nothing at all for 45 s (two keepalives): the stream is held back
        clearTimeout(quiet);
        quiet = setTimeout(function () { failed = true; ctl.abort(); }, 45000);
      }
      watchdog();
      fetch(cur.sessionUrl + "/events?version=" + version, {
        headers: {Authorization: "Bearer " + cur.pollToken}, cache: "no-store", signal: ctl.signal
      }).then(function (r) {
        if (r.status === 404 || r.status === 410) return handle(my, gone(version));
        if (!r.ok || !r.body) { failed = r.status !== 429 && r.status !== 503; throw new Error("HTTP " + r.status); }
        var reader = r.body.getReader(), dec = new TextDecoder(), buf = "";
        function pump() {
          return reader.read().then(function (x) {
            if (x.done) return false;
            watchdog();
            buf += dec.decode(x.value, {stream: true});
            var blocks = buf.split("\n\n");
            buf = blocks.pop();
            for (var i = 0; i < blocks.length; i++) {
              var kind = "", data = "";
              blocks[i].split("\n").forEach(function (line) {
                if (line.indexOf("event: ") === 0) kind = line.slice(7);
                else if (line.indexOf("data: ") === 0) data += line.slice(6);
              });
              if (kind === "session") {
                var s = JSON.parse(data);
                seen = s.version;
                if (handle(my, s)) { reader.cancel(); return true; }
              }
            }
            return pump();
          });
        }
        return pump();
      }).then(function (final) {
        clearTimeout(quiet);
        if (!final) follow(my, seen);  // the stream's time was up, or the store failed: reconnect
      }).catch(function () {
        clearTimeout(quiet);
        if (my !== gen) return;
        if (failed) streams = false;
        if (kicked) follow(my, seen);
        else setTimeout(function () { follow(my, seen); }, 2000);
      });
    }
    function poll(my, version) {
      if (my !== gen) return;
      ctl = global.AbortController ? new AbortController() : null;
      fetch(cur.sessionUrl + "?wait=25&version=" + version, {
        headers: {Authorization: "Bearer " + cur.pollToken}, cache: "no-store", signal: ctl ? ctl.signal : undefined
      }).then(function (r) {
        if (r.status === 404 || r.status === 410) return gone(version);
        if (!r.ok) throw new Error("HTTP " + r.status);
        return r.json();
      }).then(function (s) {
        if (!handle(my, s)) poll(my, s.version);
      }).catch(function () {
        if (my === gen) setTimeout(function () { poll(my, version); }, 2000);
      });
    }
    function refused(err) {
      el.dataset.status = "refused";
      el.dataset.reason = err.code || "";
      el.classList.add("bad");
      el.innerHTML = "";
      el.appendChild(h("div", "ic", "✗"));
      el.appendChild(h("p", "t", text("reason", err.code || "verification_failed")));
      if (err.message) el.appendChild(h("p", "s", err.message));
    }
    function start() {
      gen += 1;
      last = null;
      el.dataset.status = "loading";
      loadReasons().then(function (t) {
        R = t;
        if (cur.error) { refused(cur.error); return; }
        render({status: "pending", session_id: (cur.sessionUrl.match(/[^/]+$/) || [""])[0], version: 0});
        last = null;
        follow(gen, 0);
      });
    }
    function refresh() {
      if (typeof opts.refresh !== "function") return;
      el.dataset.status = "refreshing";
      Promise.resolve(opts.refresh()).then(function (next) {
        cur = normalise(next, apiBase);
        start();
      });
    }
    start();
    return {
      refresh: refresh,
      state: function () { return last; },
      destroy: function () { gen += 1; kick(); clearTimeout(timer); el.innerHTML = ""; if (blobUrl) URL.revokeObjectURL(blobUrl); }
    };
  }

  global.IdsvcQr = {mount: mount, version: "1"};
})(window);
