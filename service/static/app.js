// Verity's pages: upload with progress, submit a link, follow an analysis until it is done.
// No data is written into the page as HTML: messages go in with textContent.
"use strict";

function showStatus(message, fraction) {
  const box = document.getElementById("submit-status");
  const bar = document.getElementById("submit-progress");
  box.hidden = false;
  document.getElementById("submit-message").textContent = message;
  if (fraction === null) bar.removeAttribute("value"); else bar.value = fraction;
}

function reasonOf(status, text) {
  try { return JSON.parse(text).detail || ("error " + status); } catch (e) { return "error " + status; }
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
    if (event.lengthComputable) showStatus("Uploading " + file.name + "…", event.loaded / event.total);
  };
  request.onload = () => {
    if (request.status === 202) { showStatus("Uploaded; queued for analysis.", 1); accepted(request.responseText); }
    else showStatus("Refused: " + reasonOf(request.status, request.responseText), 0);
  };
  request.onerror = () => showStatus("The upload failed: the connection was lost.", 0);
  showStatus("Uploading " + file.name + "…", 0);
  request.send(form);
}

async function submitUrl(url) {
  showStatus("Verity is fetching the video…", null);
  const response = await fetch("/v1/analyses", {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ url: url }),
  });
  const text = await response.text();
  if (response.status === 202) accepted(text);
  else showStatus("Refused: " + reasonOf(response.status, text), 0);
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
    submitUrl(event.target.elements.url.value).catch(() => showStatus("The request failed.", 0));
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
        job.state === "running" ? "Analysing…" : "Waiting for a worker…";
    }
    window.setTimeout(poll, 1000);
  };
  window.setTimeout(poll, 500);
}

setUpSubmission();
followAnalysis();
