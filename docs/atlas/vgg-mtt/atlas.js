// The atlas's layer page: every filter precomputed, switched by swapping in its pictures and players.
// No request leaves the atlas folder. window.atlasSwitches records, for each switch, the time from
// the key, slider or click event to the new pictures decoded and the new sounds loaded (ms), with the
// parts: pictures decoded, sounds' metadata (duration) known, sounds' first data loaded.
(function () {
  "use strict";
  var A = window.ATLAS;
  if (!A) { return; }  // the index page has no filter view
  window.atlasSwitches = [];
  var $ = function (id) { return document.getElementById(id); };
  var n = A.filters.length;
  var current = -1;
  var esc = function (s) {
    return String(s).replace(/[&<>"]/g, function (c) { return {"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;"}[c]; });
  };

  var views = A.clips.map(function (c) {
    var box = document.createElement("div");
    box.className = "clip";
    box.innerHTML = "<h4>" + esc(c) + "</h4><div class=\"pair\">" +
      "<figure><img class=\"before\" src=\"clips/" + esc(c) + ".png\" alt=\"" + esc(c) + " input spectrogram\">" +
      "<figcaption>input</figcaption><audio controls preload=\"auto\" src=\"clips/" + esc(c) + ".mp3\"></audio></figure>" +
      "<figure><img class=\"change\" alt=\"\"><figcaption class=\"scale\"></figcaption>" +
      "<audio class=\"after\" controls preload=\"auto\"></audio></figure></div>";
    $("clips").appendChild(box);
    return {img: box.querySelector(".change"), cap: box.querySelector(".scale"), audio: box.querySelector(".after")};
  });
  var note = document.createElement("p");
  note.className = "note";
  note.textContent = A.note;
  $("clips").appendChild(note);

  var cells = A.filters.map(function (f, i) {
    var b = document.createElement("button");
    b.className = "cell";
    b.title = "filter " + f.index + ": click to hear its dream on " + A.clips[0];
    b.innerHTML = "<img src=\"" + esc(f.clips[A.clips[0]].change) + "\" alt=\"filter " + f.index + "\"><span>" +
      f.index + "</span>";
    b.addEventListener("click", function (e) { select(i, e.timeStamp); play(0); });
    $("grid").appendChild(b);
    return b;
  });

  // resolves when the sound has reached readyState ``state`` (1: metadata, 2: first data), at once if it has
  function loaded(audio, state, event) {
    return new Promise(function (resolve) {
      if (audio.readyState >= state || audio.error) { resolve(performance.now()); return; }
      var done = function () { audio.removeEventListener(event, done); audio.removeEventListener("error", done); resolve(performance.now()); };
      audio.addEventListener(event, done);
      audio.addEventListener("error", done);
    });
  }

  // Each filter's pictures and players, one per clip, made once and kept: a switch puts them in place of the
  // current ones, so a filter read ahead (the neighbours of the one shown) is already decoded and loaded.
  var ahead = {};
  function assets(i) {
    if (!ahead[i]) {
      ahead[i] = A.clips.map(function (c) {
        var entry = A.filters[i].clips[c], img = new Image(), audio = new Audio();
        img.className = "change";
        img.src = entry.change;
        img.decode().catch(function () {});
        audio.className = "after";
        audio.controls = true;
        audio.preload = "auto";
        audio.src = entry.sound;
        return {img: img, audio: audio};
      });
    }
    return ahead[i];
  }
  function prefetch(i) {
    if (i >= 0 && i < n) { assets(i); }
  }

  function play(k) {
    views.forEach(function (v) { v.audio.pause(); });
    var p = views[k].audio.play();
    if (p && p.catch) { p.catch(function () {}); }
  }

  function select(i, t0) {
    i = Math.max(0, Math.min(n - 1, i));
    if (i === current) { return; }
    if (t0 === undefined) { t0 = performance.now(); }
    if (current >= 0) { cells[current].classList.remove("on"); }
    current = i;
    var f = A.filters[i];
    var pictures = [], metadata = [], data = [];
    var mine = assets(i);
    views.forEach(function (v, k) {
      var c = f.clips[A.clips[k]], got = mine[k];
      v.audio.pause();
      if (v.img !== got.img) { v.img.replaceWith(got.img); v.img = got.img; }
      if (v.audio !== got.audio) { v.audio.replaceWith(got.audio); v.audio = got.audio; }
      v.img.alt = "change made by filter " + f.index + " on " + A.clips[k];
      v.cap.textContent = c.diverged ? "filter " + f.index + ": the ascent diverged on this clip (a gradient " +
        "past float range), so this is the clip unchanged" : "dream of filter " + f.index + ": mean change " +
        c.change_db + " dB; level " + (c.level_db >= 0 ? "+" : "") + c.level_db + " dB taken out; full colour at \u00b1" +
        c.scale_db + " dB";
      pictures.push(v.img.decode().then(function () { return performance.now(); }, function () { return performance.now(); }));
      metadata.push(loaded(v.audio, 1, "loadedmetadata"));
      data.push(loaded(v.audio, 2, "loadeddata"));
    });
    prefetch(i + 1);
    prefetch(i - 1);
    $("raises").innerHTML = f.raises.map(function (r) {
      return "<li>" + esc(r[0]) + " <span class=\"num\">" + (r[1] >= 0 ? "+" : "") + r[1].toFixed(2) + "</span></li>";
    }).join("");
    $("examples").innerHTML = !A.examples ? "<p>No store was given to this build (--store), so no natural examples.</p>" :
      (f.examples || []).map(function (e) {
        return "<figure class=\"example\"><audio controls preload=\"none\" src=\"" + esc(e.sound) + "\"></audio>" +
          "<figcaption><b>" + esc(e.family) + "</b> · " + esc(e.source) + (e.label ? " · " + esc(e.label) : "") +
          (e.audio === "griffin-lim" ? " <i>(from its spectrogram)</i>" : "") + "</figcaption></figure>";
      }).join("");
    $("slider").value = i;
    $("which").textContent = "filter " + f.index + " (" + (i + 1) + " of " + n + ")";
    $("cite").href = "#f" + f.index;
    cells[i].classList.add("on");
    cells[i].scrollIntoView({block: "nearest"});
    if (location.hash !== "#f" + f.index) { history.replaceState(null, "", "#f" + f.index); }
    var last = function (list) { return Promise.all(list).then(function (ts) { return Math.max.apply(null, ts) - t0; }); };
    Promise.all([last(pictures), last(metadata), last(data)]).then(function (ms) {
      // ms: everything ready (pictures decoded, sounds loaded); the parts as they finished
      window.atlasSwitches.push({filter: f.index, ms: Math.max(ms[0], ms[2]), pictures_ms: ms[0],
                                 sounds_metadata_ms: ms[1], sounds_loaded_ms: ms[2]});
      prefetch(i + 2);
      prefetch(i - 2);
    });
  }

  function fromHash() {
    var m = /^#f(\d+)$/.exec(location.hash);
    if (!m) { return 0; }
    var k = A.filters.findIndex(function (f) { return f.index === Number(m[1]); });
    return k < 0 ? 0 : k;
  }

  $("slider").addEventListener("input", function (e) { select(Number(e.target.value), e.timeStamp); });
  $("prev").addEventListener("click", function (e) { select(current - 1, e.timeStamp); });
  $("next").addEventListener("click", function (e) { select(current + 1, e.timeStamp); });
  window.addEventListener("hashchange", function () { select(fromHash()); });
  document.addEventListener("keydown", function (e) {
    if (e.target === $("slider") && /^Arrow|^Home$|^End$|^Page/.test(e.key)) { return; }  // the slider moves itself
    if (e.target.tagName === "AUDIO" || e.altKey || e.ctrlKey || e.metaKey) { return; }
    var go = {"ArrowRight": current + 1, "ArrowDown": current + 1, "ArrowLeft": current - 1, "ArrowUp": current - 1,
              "Home": 0, "End": n - 1}[e.key];
    if (go !== undefined) { e.preventDefault(); select(go, e.timeStamp); return; }
    if ((e.key === "]" && A.next) || (e.key === "[" && A.prev)) {
      location.href = (e.key === "]" ? A.next : A.prev) + "#f" + A.filters[current].index;
    } else if (e.key === " ") {
      e.preventDefault();
      play(0);
    }
  });
  select(fromHash());
}());
