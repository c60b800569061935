// 银龄 page script: read-aloud (语音阅读) and keeping a session alive while someone is
// actually using the page. No pop-ups, no timers that change what is on the screen.
(function () {
  "use strict";
  var root = document.documentElement;
  var elder = root.classList.contains("elder");
  root.classList.add("js");

  // ---- the menu button (长辈模式 on a phone) ----
  var menuBtn = document.getElementById("menu-toggle");
  if (menuBtn) {
    menuBtn.addEventListener("click", function () {
      var open = menuBtn.getAttribute("aria-expanded") !== "true";
      menuBtn.setAttribute("aria-expanded", open ? "true" : "false");
      menuBtn.textContent = open ? "收起菜单" : "菜单";
      ["menu-list", "menu-who"].forEach(function (id) {
        var el = document.getElementById(id);
        if (el) { el.classList.toggle("open", open); }
      });
    });
  }

  // ---- "back" links: history when there is some, the link's own target otherwise ----
  Array.prototype.forEach.call(document.querySelectorAll("a[data-back]"), function (a) {
    a.addEventListener("click", function (ev) {
      if (window.history.length > 1) { ev.preventDefault(); window.history.back(); }
    });
  });

  // ---- read aloud ----
  var readBtn = document.getElementById("read-aloud");
  var status = document.getElementById("read-status");
  function say(msg) { if (status) { status.textContent = msg; } }
  function stopped() {
    if (!readBtn) { return; }
    readBtn.setAttribute("aria-pressed", "false");
    readBtn.textContent = "朗读本页";
  }
  if (readBtn) {
    readBtn.addEventListener("click", function () {
      if (!("speechSynthesis" in window)) {
        say("这个浏览器不支持朗读，请使用手机自带的朗读功能。");
        return;
      }
      var synth = window.speechSynthesis;
      if (readBtn.getAttribute("aria-pressed") === "true") {
        synth.cancel();
        stopped();
        say("已停止朗读。");
        return;
      }
      var main = document.getElementById("main");
      var selected = window.getSelection ? String(window.getSelection()).trim() : "";
      var text = selected || (main ? main.innerText : document.body.innerText);
      text = text.replace(/\s+/g, " ").trim();
      if (!text) { return; }
      var u = new SpeechSynthesisUtterance(text);
      u.lang = "zh-CN";
      u.rate = elder ? 0.85 : 1;
      var voices = synth.getVoices ? synth.getVoices() : [];
      for (var i = 0; i < voices.length; i++) {
        if (voices[i].lang && voices[i].lang.indexOf("zh") === 0) { u.voice = voices[i]; break; }
      }
      u.onend = function () { stopped(); say("朗读完毕。"); };
      u.onerror = function () { stopped(); };
      synth.cancel();
      synth.speak(u);
      readBtn.setAttribute("aria-pressed", "true");
      readBtn.textContent = "停止朗读";
      say(selected ? "正在朗读选中的文字……" : "正在朗读本页……");
    });
  }

  // ---- keep the session alive while the user is active ----
  // The server ends a session after 30 idle minutes; reading or typing counts as activity.
  var csrfInput = document.querySelector('input[name="csrf_token"]');
  var signedIn = document.querySelector(".nav") !== null;
  if (signedIn && csrfInput && window.fetch) {
    var active = false;
    ["keydown", "pointerdown", "scroll", "input", "touchstart", "mousemove"].forEach(function (ev) {
      window.addEventListener(ev, function () { active = true; }, { passive: true });
    });
    window.setInterval(function () {
      if (!active) { return; }
      active = false;
      window.fetch("/session/ping", {
        method: "POST",
        credentials: "same-origin",
        headers: { "X-CSRF-Token": csrfInput.value }
      }).catch(function () {});
    }, 4 * 60 * 1000);
  }
})();
