// ferry status page: the Retry forms post with fetch and report the result
// in #retry-result; every few seconds the page fetches itself and swaps in
// the fresh #head and #content. Without JavaScript the forms still post.
"use strict";
(() => {
  const every = 5000;
  const result = document.getElementById("retry-result");
  const offline = document.getElementById("offline");
  let retries = 0; // in flight: no timed refresh meanwhile
  let started = 0, applied = 0; // refreshes, so that a slow one never undoes a newer one

  async function refresh() {
    const seq = ++started;
    try {
      const resp = await fetch(location.href, { cache: "no-store", headers: { Accept: "text/html" } });
      const doc = new DOMParser().parseFromString(await resp.text(), "text/html");
      if (seq < applied) return;
      applied = seq;
      for (const id of ["head", "content"]) {
        const fresh = doc.getElementById(id), old = document.getElementById(id);
        if (fresh && old) old.replaceWith(document.adoptNode(fresh));
      }
      offline.hidden = true;
    } catch (err) {
      offline.hidden = false;
    }
  }

  function say(text, bad) {
    result.textContent = text;
    result.classList.toggle("bad", bad);
  }

  document.addEventListener("submit", async (ev) => {
    const form = ev.target;
    if (!form.matches("form.retry")) return;
    ev.preventDefault();
    retries++;
    for (const b of form.querySelectorAll("button")) b.disabled = true;
    say("re-queueing…", false);
    try {
      const resp = await fetch(form.action, {
        method: "POST",
        headers: { Accept: "application/json" },
        body: new URLSearchParams(new FormData(form)),
      });
      const body = await resp.json().catch(() => ({}));
      if (!resp.ok) throw new Error(body.error || `${resp.status} ${resp.statusText}`);
      const n = body.requeued;
      say(`${n} ${n === 1 ? "operation" : "operations"} re-queued`, false);
    } catch (err) {
      say(`retry failed: ${err.message}`, true);
    } finally {
      retries--;
      await refresh();
    }
  });

  setInterval(() => {
    if (retries === 0 && !document.hidden) refresh();
  }, every);
})();
