// The bookmarklet. Runs on the page the journalist is reading: lists its videos and opens
// Verity's check page for the chosen one in a new tab. It carries no key; VERITY is the
// service's address, and WORDS the translations of its messages into the install page's
// language, written in when the install page is served.
(function () {
  var VERITY = __VERITY__;
  var WORDS = __WORDS__;
  function _(text) { return WORDS[text] || text; }
  var seen = {}, videos = [], streamed = 0;
  function add(src) {
    if (!src) return;
    if (/^(blob|data|mediastream):/.test(src)) { streamed += 1; return; }
    var url = new URL(src, location.href).href;
    if (!seen[url]) { seen[url] = true; videos.push(url); }
  }
  document.querySelectorAll("meta[property^='og:video'],meta[name^='og:video']").forEach(function (m) {
    if (!/:type$|:width$|:height$/.test(m.getAttribute("property") || m.getAttribute("name"))) add(m.content);
  });
  document.querySelectorAll("video").forEach(function (v) {
    add(v.currentSrc || v.getAttribute("src"));
    v.querySelectorAll("source[src]").forEach(function (s) { add(s.getAttribute("src")); });
  });
  function open(url) {
    window.open(VERITY + "/check?url=" + encodeURIComponent(url) + "&page=" + encodeURIComponent(location.href), "_blank", "noopener");
  }
  if (!videos.length) {
    alert(streamed ? _("This page streams its video in pieces; Verity cannot fetch it. Download the video and upload it to Verity.") : _("Verity found no video on this page."));
    return;
  }
  if (videos.length === 1) { open(videos[0]); return; }
  var old = document.getElementById("verity-picker");
  if (old) old.remove();
  var box = document.createElement("div");
  box.id = "verity-picker";
  box.setAttribute("style", "position:fixed;top:1rem;right:1rem;z-index:2147483647;background:#fff;color:#111;border:2px solid #1f4fbf;border-radius:8px;padding:.8rem;max-width:32rem;font:14px system-ui,sans-serif;box-shadow:0 4px 20px rgba(0,0,0,.3)");
  var title = document.createElement("strong");
  title.textContent = _("Verity: which video?");
  box.appendChild(title);
  videos.forEach(function (url) {
    var button = document.createElement("button");
    button.textContent = url.length > 90 ? url.slice(0, 87) + "…" : url;
    button.title = url;
    button.setAttribute("style", "display:block;width:100%;text-align:left;margin:.4rem 0;padding:.3rem;font:12px monospace;cursor:pointer");
    button.addEventListener("click", function () { box.remove(); open(url); });
    box.appendChild(button);
  });
  var close = document.createElement("button");
  close.textContent = _("Cancel");
  close.addEventListener("click", function () { box.remove(); });
  box.appendChild(close);
  document.body.appendChild(box);
})();
