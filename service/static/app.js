// Verity's pages: upload with progress, submit a link, follow an analysis until it is done.
// No data is written into the page as HTML: messages go in with textContent.
// Its messages are in the page's language: the page hands over their translations (#words).
"use strict";

const WORDS = JSON.parse((document.getElementById("words") || {}).textContent || "{}");
function _(text, values) {
  let said = WORDS[text] || text;
  for (const [name, value] of Object.entries(values || {})) said = said.replace("{" + name + "}", value);
  return said;
}

function showStatus(message, fraction) {
  const box = document.getElementById("submit-status");
  const bar = document.getElementById("submit-progress");
  box.hidden = false;
  document.getElementById("submit-message").textContent = message;
  if (fraction === null) bar.removeAttribute("value"); else bar.value = fraction;
}

function reasonOf(status, text) {
  const fallback = _("error {status}", { status: status });
  try { return JSON.parse(text).detail || fallback; } catch (e) { return fallback; }
}

function accepted(body) {
  window.location.assign("/analyses/" + encodeURIComponent(JSON.parse(body).id));
}

function uploadFile(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  const request = new XMLHttpRequest();
  request.open("POST", "/v1/analyses");
  request.upload.onprogress = (event) => {
    if (event.lengthComputable) showStatus(_("Uploading {name}…", { name: file.name }), event.loaded / event.total);
  };
  request.onload = () => {
    if (request.status === 202) { showStatus(_("Uploaded; queued for analysis."), 1); accepted(request.responseText); }
    else showStatus(_("Refused: {reason}", { reason: reasonOf(request.status, request.responseText) }), 0);
  };
  request.onerror = () => showStatus(_("The upload failed: the connection was lost."), 0);
  showStatus(_("Uploading {name}…", { name: file.name }), 0);
  request.send(form);
}

async function submitUrl(url) {
  showStatus(_("Verity is fetching the video…"), null);
  const response = await fetch("/v1/analyses", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ url: url }),
  });
  const text = await response.text();
  if (response.status === 202) accepted(text);
  else showStatus(_("Refused: {reason}", { reason: reasonOf(response.status, text) }), 0);
}

function setUpSubmission() {
  const drop = document.querySelector("[data-drop]");
  if (!drop) return;
  const input = drop.querySelector("input[type=file]");
  input.addEventListener("change", () => { if (input.files.length) uploadFile(input.files[0]); });
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) uploadFile(event.dataTransfer.files[0]);
  });
  document.getElementById("url-form").addEventListener("submit", (event) => {
    event.preventDefault();
    submitUrl(event.target.elements.url.value).catch(() => showStatus(_("The request failed."), 0));
  });
}

function followAnalysis() {
  const banner = document.querySelector("[data-poll]");
  if (!banner) return;
  const id = banner.getAttribute("data-poll");
  const poll = async () => {
    const response = await fetch("/v1/analyses/" + encodeURIComponent(id));
    if (response.ok) {
      const job = await response.json();
      if (job.state === "done" || job.state === "failed") { window.location.reload(); return; }
      document.getElementById("poll-progress").value = job.progress;
      document.getElementById("poll-state").textContent =
        job.state === "running" ? _("Analysing…") : _("Waiting for a worker…");
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 500);
}

setUpSubmission();
followAnalysis();
