// Checks a receipt and its transparency-log entry in the visitor's browser (Web Crypto):
// the receipt's Ed25519 signature, the RFC 9162 inclusion proof of its entry, and the
// Ed25519 signature of the C2SP checkpoint the proof leads to. Nothing here trusts the
// server's word: every hash and signature is computed from the data on this page.
"use strict";
(function () {
  const script = document.currentScript;
  const evidence = JSON.parse(document.getElementById("log-evidence").textContent);
  const utf8 = (s) => new TextEncoder().encode(s);
  const b64 = (s) => Uint8Array.from(atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4)),
                                     (c) => c.charCodeAt(0));
  const concat = (...parts) => {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let i = 0;
    for (const p of parts) { out.set(p, i); i += p.length; }
    return out;
  };
  const sha256 = async (bytes) => new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  const equal = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

  function show(name, outcome) {
    const el = document.querySelector(`[data-check="${name}"] .result`);
    el.textContent = outcome === true ? script.dataset.ok : outcome === false ? script.dataset.bad : outcome;
    el.className = "result " + (outcome === true ? "ok" : outcome === false ? "bad" : "muted");
    el.closest("li").dataset.outcome = outcome === true ? "ok" : outcome === false ? "bad" : "unknown";
  }

  async function ed25519(publicKey, signature, message) {
    const key = await crypto.subtle.importKey("raw", publicKey, { name: "Ed25519" }, false, ["verify"]);
    return crypto.subtle.verify({ name: "Ed25519" }, key, signature, message);
  }

  // RFC 9162 §2.1.3.2: the root an inclusion proof leads to.
  async function rootFromInclusion(leafHash, index, size, proof) {
    if (index >= size) return null;
    let fn = index, sn = size - 1, r = leafHash;
    for (const p of proof) {
      if (sn === 0) return null;
      if (fn % 2 === 1 || fn === sn) {
        r = await sha256(concat([1], p, r));
        if (fn % 2 === 0) while (fn % 2 === 0 && fn !== 0) { fn = Math.floor(fn / 2); sn = Math.floor(sn / 2); }
      } else {
        r = await sha256(concat([1], r, p));
      }
      fn = Math.floor(fn / 2); sn = Math.floor(sn / 2);
    }
    return sn === 0 ? r : null;
  }

  // A C2SP signed note: the text up to the last blank line, then "— name base64(keyid ‖ sig)".
  function parseNote(note) {
    const split = note.lastIndexOf("\n\n");
    const body = note.slice(0, split + 1);
    const lines = body.split("\n");
    const sigs = note.slice(split + 2).split("\n").filter((l) => l.startsWith("\u2014 "))
      .map((l) => { const [name, sig] = l.slice(2).split(" "); return { name, sig: b64(sig) }; });
    return { body, origin: lines[0], size: Number(lines[1]), root: b64(lines[2]), sigs };
  }

  async function run() {
    if (!(window.crypto && crypto.subtle)) {
      for (const n of ["receipt", "entry", "inclusion", "checkpoint"]) show(n, script.dataset.unsupported);
      return;
    }
    // 1. the receipt: the link's signature over the exact signed payload bytes
    try {
      show("receipt", evidence.signature
        ? await ed25519(b64(evidence.receipt_public_key), b64(evidence.signature), utf8(evidence.payload))
        : script.dataset.nosig);
    } catch (e) { show("receipt", script.dataset.unsupported); }
    // 2. the log entry is this receipt's contribution
    const entry = JSON.parse(evidence.entry);
    show("entry", entry.seq === evidence.leaf_index && !!entry.contribution &&
                  entry.contribution.receipt === evidence.number);
    // 3. the entry's Merkle path leads to the checkpoint's root
    const note = parseNote(evidence.checkpoint);
    const leafHash = await sha256(concat([0], utf8(evidence.entry)));
    const root = await rootFromInclusion(leafHash, evidence.leaf_index, note.size, evidence.proof.map(b64));
    show("inclusion", note.size === evidence.checkpoint_size && root !== null && equal(root, note.root));
    // 4. the checkpoint's signature, by the key named in the verifier key
    try {
      // "name+hex8+base64": the base64 may itself hold "+", so cut at the first two only
      const vk = evidence.note_verifier_key, cut = vk.indexOf("+");
      const name = vk.slice(0, cut), keyIdHex = vk.slice(cut + 1, cut + 9), vkey = vk.slice(cut + 10);
      const pub = b64(vkey).slice(1);  // 0x01 (Ed25519) then the raw key
      const keyId = Uint8Array.from(keyIdHex.match(/../g), (h) => parseInt(h, 16));
      const sig = note.sigs.find((s) => s.name === name && s.sig.length === 68 && equal(s.sig.slice(0, 4), keyId));
      show("checkpoint", !!sig && name === note.origin && await ed25519(pub, sig.sig.slice(4), utf8(note.body)));
    } catch (e) { show("checkpoint", script.dataset.unsupported); }
    document.getElementById("browser-check").dataset.done = "true";
  }
  run();
})();
