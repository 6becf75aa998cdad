// Photodesk slideshow: enhances the server-rendered story page (every slide
// a <figure>, all visible without JavaScript) into one slide at a time with
// previous/next, keys, swipe, the address bar following, and a full-screen
// viewer with zoom and pan. Our own code, no framework: it must stay small
// (README: size budget 8 KB gzipped) and follows the WAI-ARIA APG carousel
// and modal dialog patterns.
(function () {
  'use strict';
  var show = document.querySelector('[data-slideshow]');
  if (!show) return;
  var slides = [].slice.call(show.querySelectorAll('.slide'));
  var total = slides.length;
  var live = show.querySelector('.slideshow-status');
  var prev = show.querySelector('.slideshow-prev');
  var next = show.querySelector('.slideshow-next');
  var index = Math.max(0, slides.findIndex(function (s) { return s.classList.contains('is-current'); }));
  // A one-photo story has no controls: nothing to move between.
  var single = !prev;

  function url(i) { return slides[i].getAttribute('data-url'); }

  // Shows slide i; `moved` when the reader moved (announce it, follow in
  // the address bar), not on the first showing.
  function go(i, moved) {
    i = (i + total) % total;
    var had = slides[index].contains(document.activeElement);
    slides[index].classList.remove('is-current');
    slides[i].classList.add('is-current');
    index = i;
    if (!single) {
      prev.href = url((i - 1 + total) % total);
      next.href = url((i + 1) % total);
    }
    paintPlaceholder(slides[i]);
    [i + 1, i - 1].forEach(function (j) { eager(slides[(j + total) % total]); });
    if (!moved) return;
    slides[i].parentNode.classList.add('has-moved');
    live.textContent = 'Photo ' + (i + 1) + ' of ' + total;
    history.replaceState(history.state, '', url(i));
    if (had) slides[i].querySelector('.slide-photo').focus();
  }

  // Loading the neighbours now makes the next click instant.
  function eager(slide) {
    var img = slide.querySelector('img');
    paintPlaceholder(slide);
    if (img.loading === 'lazy') img.loading = 'eager';
  }

  function link(element, step) {
    element.addEventListener('click', function (e) {
      e.preventDefault();
      go(index + step, true);
    });
  }
  if (!single) {
    link(prev, -1);
    link(next, 1);
  }

  document.addEventListener('keydown', function (e) {
    var t = e.target;
    if (viewer.open || e.altKey || e.ctrlKey || e.metaKey || e.shiftKey) return;
    if (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName)) return;
    var inside = show.contains(t);
    var to = { ArrowLeft: index - 1, ArrowRight: index + 1 }[e.key];
    // Home and End keep their page meaning outside the slideshow.
    if (inside && e.key === 'Home') to = 0;
    if (inside && e.key === 'End') to = total - 1;
    if (to === undefined || (!inside && t !== document.body)) return;
    e.preventDefault();
    go(to, true);
  });

  // Swipe: a mostly horizontal touch or pen stroke of 40 px or more. A
  // swipe that ends on the photo must not open the viewer too.
  var start = null, swiped = false;
  show.addEventListener('pointerdown', function (e) {
    swiped = false;
    start = e.pointerType === 'mouse' ? null : { x: e.clientX, y: e.clientY };
  });
  show.addEventListener('pointerup', function (e) {
    if (!start) return;
    var dx = e.clientX - start.x, dy = e.clientY - start.y;
    start = null;
    if (Math.abs(dx) >= 40 && Math.abs(dx) > 1.5 * Math.abs(dy)) {
      swiped = true;
      go(index + (dx < 0 ? 1 : -1), true);
    }
  });
  show.addEventListener('pointercancel', function () { start = null; });

  window.addEventListener('beforeprint', function () { slides.forEach(eager); });

  // The full-screen viewer: a modal <dialog> (focus trapped by the browser,
  // Escape closes), opened from the photo link, closed by Back too.
  var viewer = document.createElement('dialog');
  viewer.className = 'viewer';
  viewer.setAttribute('aria-labelledby', 'viewer-title');
  viewer.innerHTML = '<h2 id="viewer-title" class="visually-hidden"></h2>' +
    '<button type="button" class="viewer-close">Close<span class="visually-hidden"> full-screen view</span></button>' +
    '<div class="viewer-stage"></div><p class="viewer-caption"></p>';
  document.body.appendChild(viewer);
  var stage = viewer.querySelector('.viewer-stage');
  var opener = null;
  var view = { scale: 1, x: 0, y: 0 };
  var pointers = {};
  var pinch = null;
  var lastTap = 0;

  slides.forEach(function (slide, i) {
    slide.querySelector('.slide-photo').addEventListener('click', function (e) {
      e.preventDefault();
      if (swiped) { swiped = false; return; }
      open(i, this);
    });
  });

  function open(i, from) {
    var slide = slides[i];
    opener = from;
    var picture = slide.querySelector('picture').cloneNode(true);
    [].forEach.call(picture.querySelectorAll('[sizes]'), function (s) { s.setAttribute('sizes', '100vw'); });
    var img = picture.querySelector('img');
    img.loading = 'eager';
    img.draggable = false;
    img.removeAttribute('style');
    stage.replaceChildren(picture);
    viewer.querySelector('#viewer-title').textContent = 'Photo ' + (i + 1) + ' of ' + total;
    var caption = viewer.querySelector('.viewer-caption');
    caption.replaceChildren();
    caption.lang = slide.closest('[lang]').lang;
    caption.dir = slide.closest('[dir]') ? 'rtl' : '';
    ['.caption', '.credit'].forEach(function (part) {
      var text = slide.querySelector(part);
      if (text) caption.appendChild(text.cloneNode(true));
    });
    setView(1, 0, 0);
    viewer.showModal();
    viewer.querySelector('.viewer-close').focus();
    // An entry of our own, so the Back button closes the viewer.
    history.pushState({ viewer: true }, '', location.href);
  }

  function close() {
    if (history.state && history.state.viewer) history.back();
    else finish();
  }

  function finish() {
    if (!viewer.open) return;
    viewer.close();
    stage.replaceChildren();
    if (opener) opener.focus();
  }

  window.addEventListener('popstate', finish);
  viewer.addEventListener('cancel', function (e) { e.preventDefault(); close(); });
  viewer.querySelector('.viewer-close').addEventListener('click', close);

  function image() { return stage.querySelector('img'); }

  // Zoom between 1× and 5×, panning kept within the photo's edges.
  function setView(scale, x, y) {
    var img = image();
    scale = Math.min(5, Math.max(1, scale));
    if (img) {
      var maxX = img.offsetWidth * (scale - 1) / 2, maxY = img.offsetHeight * (scale - 1) / 2;
      x = Math.min(maxX, Math.max(-maxX, x));
      y = Math.min(maxY, Math.max(-maxY, y));
      img.style.transform = 'translate(' + x + 'px,' + y + 'px) scale(' + scale + ')';
    }
    view = { scale: scale, x: x, y: y };
    stage.classList.toggle('is-zoomed', scale > 1);
  }

  // Zooms by `factor` keeping the photo point under (cx, cy) in place.
  function zoomAt(factor, cx, cy) {
    var r = stage.getBoundingClientRect();
    var px = cx - r.left - r.width / 2, py = cy - r.top - r.height / 2;
    var scale = Math.min(5, Math.max(1, view.scale * factor));
    var k = scale / view.scale;
    setView(scale, px - (px - view.x) * k, py - (py - view.y) * k);
  }

  stage.addEventListener('wheel', function (e) {
    e.preventDefault();
    zoomAt(Math.exp(-e.deltaY * 0.002), e.clientX, e.clientY);
  }, { passive: false });

  stage.addEventListener('dblclick', function (e) {
    zoomAt(view.scale > 1 ? 1 / view.scale : 2.5, e.clientX, e.clientY);
  });

  stage.addEventListener('pointerdown', function (e) {
    stage.setPointerCapture(e.pointerId);
    pointers[e.pointerId] = { x: e.clientX, y: e.clientY };
    var ids = Object.keys(pointers);
    if (ids.length === 2) pinch = distance();
    if (e.pointerType !== 'mouse' && ids.length === 1) {
      // Double tap: touch screens do not fire dblclick reliably.
      if (e.timeStamp - lastTap < 300) zoomAt(view.scale > 1 ? 1 / view.scale : 2.5, e.clientX, e.clientY);
      lastTap = e.timeStamp;
    }
  });

  stage.addEventListener('pointermove', function (e) {
    var p = pointers[e.pointerId];
    if (!p) return;
    var dx = e.clientX - p.x, dy = e.clientY - p.y;
    p.x = e.clientX;
    p.y = e.clientY;
    if (pinch) {
      var d = distance(), mid = middle();
      zoomAt(d / pinch, mid.x, mid.y);
      pinch = d;
    } else if (view.scale > 1) {
      setView(view.scale, view.x + dx, view.y + dy);
    }
  });

  function release(e) {
    delete pointers[e.pointerId];
    if (Object.keys(pointers).length < 2) pinch = null;
  }
  stage.addEventListener('pointerup', release);
  stage.addEventListener('pointercancel', release);

  function points() { return Object.keys(pointers).map(function (k) { return pointers[k]; }); }
  function distance() { var p = points(); return Math.hypot(p[0].x - p[1].x, p[0].y - p[1].y) || 1; }
  function middle() { var p = points(); return { x: (p[0].x + p[1].x) / 2, y: (p[0].y + p[1].y) / 2 }; }

  // ThumbHash placeholder painted behind a photo about to load (once; only
  // slides that are shown or next, to keep the main thread free). Decoder
  // after Evan Wallace's reference thumbHashToRGBA (MIT), trimmed to what
  // a blurred preview needs.
  function paintPlaceholder(slide) {
    var img = slide.querySelector('img');
    var hash = img.getAttribute('data-placeholder');
    if (!hash || img.complete || img.style.backgroundImage) return;
    try {
      var bytes = Uint8Array.from(atob(hash), function (c) { return c.charCodeAt(0); });
      img.style.backgroundImage = 'url(' + thumbHashToDataURL(bytes) + ')';
      img.addEventListener('load', function () { img.style.backgroundImage = ''; }, { once: true });
    } catch (err) { /* a damaged hash just leaves the plain background */ }
  }

  function thumbHashToDataURL(hash) {
    var PI = Math.PI, min = Math.min, max = Math.max, round = Math.round;
    var header24 = hash[0] | (hash[1] << 8) | (hash[2] << 16), header16 = hash[3] | (hash[4] << 8);
    var lDc = (header24 & 63) / 63, pDc = ((header24 >> 6) & 63) / 31.5 - 1, qDc = ((header24 >> 12) & 63) / 31.5 - 1;
    var lScale = ((header24 >> 18) & 31) / 31, hasAlpha = header24 >> 23;
    var pScale = ((header16 >> 3) & 63) / 63, qScale = ((header16 >> 9) & 63) / 63;
    var isLandscape = header16 >> 15;
    var lx = max(3, isLandscape ? (hasAlpha ? 5 : 7) : header16 & 7);
    var ly = max(3, isLandscape ? header16 & 7 : (hasAlpha ? 5 : 7));
    var aDc = hasAlpha ? (hash[5] & 15) / 15 : 1, aScale = (hash[5] >> 4) / 15;
    var acStart = hasAlpha ? 6 : 5, acIndex = 0;
    function decode(nx, ny, scale) {
      var ac = [];
      for (var cy = 0; cy < ny; cy++)
        for (var cx = cy ? 0 : 1; cx * ny < nx * (ny - cy); cx++)
          ac.push((((hash[acStart + (acIndex >> 1)] >> ((acIndex++ & 1) << 2)) & 15) / 7.5 - 1) * scale);
      return ac;
    }
    var lAc = decode(lx, ly, lScale), pAc = decode(3, 3, pScale * 1.25), qAc = decode(3, 3, qScale * 1.25);
    var aAc = hasAlpha && decode(5, 5, aScale);
    var ratio = lx / ly;
    var w = round(ratio > 1 ? 32 : 32 * ratio), h = round(ratio > 1 ? 32 / ratio : 32);
    var canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    var ctx = canvas.getContext('2d');
    var data = ctx.createImageData(w, h);
    var rgba = data.data;
    for (var y = 0, i = 0; y < h; y++) {
      for (var x = 0; x < w; x++, i += 4) {
        var l = lDc, p = pDc, q = qDc, a = aDc;
        var fx = [], fy = [];
        for (var c = 0, n = max(lx, hasAlpha ? 5 : 3); c < n; c++) fx[c] = Math.cos(PI / w * (x + 0.5) * c);
        for (c = 0, n = max(ly, hasAlpha ? 5 : 3); c < n; c++) fy[c] = Math.cos(PI / h * (y + 0.5) * c);
        for (var cy = 0, j = 0; cy < ly; cy++)
          for (var cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx * ly < lx * (ly - cy); cx++, j++) l += lAc[j] * fx[cx] * fy2;
        for (cy = 0, j = 0; cy < 3; cy++)
          for (cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx < 3 - cy; cx++, j++) {
            var f = fx[cx] * fy2;
            p += pAc[j] * f;
            q += qAc[j] * f;
          }
        if (hasAlpha)
          for (cy = 0, j = 0; cy < 5; cy++)
            for (cx = cy ? 0 : 1, fy2 = fy[cy] * 2; cx < 5 - cy; cx++, j++) a += aAc[j] * fx[cx] * fy2;
        var b = l - 2 / 3 * p, r = (3 * l - b + q) / 2, g = r - q;
        rgba[i] = max(0, 255 * min(1, r));
        rgba[i + 1] = max(0, 255 * min(1, g));
        rgba[i + 2] = max(0, 255 * min(1, b));
        rgba[i + 3] = max(0, 255 * min(1, a));
      }
    }
    ctx.putImageData(data, 0, 0);
    return canvas.toDataURL();
  }

  // Start: one slide, the one the address names.
  show.classList.add('is-enhanced');
  go(index, false);
})();
