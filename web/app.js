// The demo page: sign in with a local dev token, upload with progress, watch the gallery.
import { createMediaClient, pendingUploads, thumbHashToDataURL } from "./media-client.js";

const $ = (sel) => document.querySelector(sel);
const state = { token: null, client: null, cards: new Map() };
// The demo remembers who signed in (user and scopes only; the token is minted again).
const REMEMBER = "lambda-media-demo:user";
const EMPTY_SIGNED_IN = "Nothing yet: drop a few files above.";

async function devConfig() {
  const res = await fetch("/dev/config.json");
  return res.json();
}

async function signIn(event) {
  event?.preventDefault();
  const user = $("#user").value.trim() || "demo-user";
  const scopes = $("#scopes").value.trim();
  // Local stack only: the dev bridge mints HS256 tokens; a deployed app uses its identity provider.
  const res = await fetch(`/dev/token?${new URLSearchParams({ sub: user, scopes })}`);
  state.token = (await res.json()).token;
  const { api_url } = await devConfig();
  state.client = createMediaClient({ baseUrl: api_url, getToken: () => state.token });
  $("#who").textContent = `signed in as ${user}`;
  document.body.dataset.signedIn = "true";
  $("#empty").textContent = EMPTY_SIGNED_IN;
  try {
    localStorage.setItem(REMEMBER, JSON.stringify({ user, scopes }));
  } catch {
    // Without storage the demo only forgets the user on reload.
  }
  showResumable();
  await refresh();
}

/** Multipart uploads a reload interrupted: choosing the same file again resumes them. */
function showResumable() {
  const list = $("#resumable");
  list.replaceChildren();
  for (const u of pendingUploads()) {
    const li = document.createElement("li");
    li.dataset.id = u.mediaId;
    li.textContent = `${u.filename} (${u.kind}, ${u.part_count} parts) was interrupted: choose it again to resume`;
    list.append(li);
  }
}

function card(media) {
  let el = state.cards.get(media.id);
  if (!el) {
    el = document.createElement("article");
    el.className = "card";
    el.dataset.id = media.id;
    $("#gallery").prepend(el);
    state.cards.set(media.id, el);
  }
  el.dataset.status = media.status;
  el.classList.remove("pending", "ready", "rejected");
  el.classList.add(media.status);
  const thumb = media.variants?.["512"] || media.variants?.["128"];
  const isVideo = media.status === "ready" && media.content_type?.startsWith("video/") && media.url;
  const src = isVideo ? null : thumb?.url || (media.status === "ready" ? media.url : null);
  el.innerHTML = `
    <div class="thumb">${isVideo ? `<video controls preload="metadata"></video>` : src ? `<img alt="" loading="lazy">` : `<div class="placeholder"></div>`}</div>
    <div class="meta">
      <div class="name"></div>
      <div class="line"><span class="badge ${media.status}">${media.status}</span>
        <button class="ghost" type="button">Delete</button></div>
      ${media.rejection ? `<div class="reason"></div>` : ""}
    </div>`;
  el.querySelector(".name").textContent = media.filename;
  // The placeholder paints at once; the thumbnail covers it when it has loaded.
  const placeholder = media.placeholder && thumbHashToDataURL(media.placeholder.thumbhash);
  if (placeholder) {
    const box = el.querySelector(".thumb").style;
    box.backgroundImage = `url("${placeholder}")`;
    box.backgroundSize = "contain";
    box.backgroundRepeat = "no-repeat";
    box.backgroundPosition = "center";
  }
  if (isVideo) {
    // A presigned GET: S3 answers Range requests, so the player seeks without downloading all.
    // The poster's 512 px thumbnail paints the frame until play.
    const video = el.querySelector("video");
    const poster = media.variants?.["512"]?.url || media.poster?.url;
    if (poster) video.poster = poster;
    video.src = media.url;
  } else if (src) {
    const img = el.querySelector("img");
    img.src = src;
    img.addEventListener("click", () => media.url && window.open(media.url, "_blank", "noopener"));
  } else {
    el.querySelector(".placeholder").textContent = media.status === "pending" ? "verifying…" : "no preview";
  }
  if (media.rejection) el.querySelector(".reason").textContent = `${media.rejection.code}: ${media.rejection.message}`;
  el.querySelector("button").addEventListener("click", async () => {
    await state.client.deleteMedia(media.id);
    el.remove();
    state.cards.delete(media.id);
    $("#empty").hidden = state.cards.size > 0;
  });
  $("#empty").hidden = true;
}

async function refresh() {
  const { items } = await state.client.listMedia({ limit: 50 });
  for (const m of items.reverse()) card(m);
  $("#empty").hidden = state.cards.size > 0;
}

function progressRow(file) {
  const li = document.createElement("li");
  li.innerHTML = `<span class="name"></span><span class="bar"><span></span></span><span class="pct">0%</span><span class="error"></span>`;
  li.querySelector(".name").textContent = file.name;
  li.dataset.max = "0";
  $("#progress").append(li);
  const update = (loaded, total) => {
    const pct = total ? Math.round((loaded / total) * 100) : 0;
    li.querySelector(".bar > span").style.width = `${pct}%`;
    li.querySelector(".pct").textContent = `${pct}%`;
    li.dataset.max = String(Math.max(Number(li.dataset.max), pct));
  };
  // A file that was not sent, or whose upload failed, says why on its own row.
  update.fail = (error) => {
    li.classList.add("failed");
    li.querySelector(".error").textContent = `${error.code || error.name}: ${error.message}`;
  };
  update.li = li;
  return update;
}

async function upload(files) {
  if (!state.client) await signIn();
  const list = Array.from(files);
  const rows = list.map(progressRow);
  // The demo page lowers the multipart threshold (?multipart=bytes) to show parts on small files.
  const threshold = Number(new URLSearchParams(location.search).get("multipart")) || undefined;
  const results = await state.client.uploadFiles(list, {
    kind: $("#kind").value,
    method: $("#method").value,
    multipartThreshold: threshold,
    onProgress: (i, loaded, total) => rows[i](loaded, total),
    onSlot: (i, slot) => {
      rows[i].li.dataset.mediaId = slot.media_id;
      rows[i].li.dataset.method = slot.method;
      card({ id: slot.media_id, status: "pending", filename: list[i].name, variants: {} });
    },
    onPart: (i, n) => { rows[i].li.dataset.parts = `${rows[i].li.dataset.parts || ""}${n},`; },
  });
  results.forEach((r, i) => {
    rows[i].li.dataset.done = "true";
    if (r.media) card(r.media);
    if (r.error) {
      rows[i].fail(r.error);
      const el = state.cards.get(r.mediaId);
      if (el?.querySelector(".placeholder")) el.querySelector(".placeholder").textContent = `${r.error.name}: ${r.error.code || r.error.message}`;
    }
  });
  showResumable();
  $("#clear").hidden = false;
}

$("#signin").addEventListener("submit", signIn);
$("#clear").addEventListener("click", () => {
  for (const li of document.querySelectorAll("#progress li[data-done='true']")) li.remove();
  $("#clear").hidden = !document.querySelector("#progress li");
});
try {
  const remembered = JSON.parse(localStorage.getItem(REMEMBER) || "null");
  if (remembered?.user) {
    $("#user").value = remembered.user;
    $("#scopes").value = remembered.scopes || "";
    signIn();
  }
} catch {
  // A page without storage starts signed out.
}
$("#files").addEventListener("change", (e) => upload(e.target.files));
const drop = $("#drop");
drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
drop.addEventListener("dragleave", () => drop.classList.remove("over"));
drop.addEventListener("drop", (e) => { e.preventDefault(); drop.classList.remove("over"); upload(e.dataTransfer.files); });
