// Photodesk story editor: the server renders the page; this script saves
// through the JSON API (/api/v1) with the session's CSRF token, sending the
// version it last saw so a concurrent edit is reported, never overwritten.
(function () {
  'use strict';
  var root = document.getElementById('editor');
  if (!root) return;
  var id = root.getAttribute('data-story-id');
  var csrf = root.getAttribute('data-csrf');
  var version = Number(root.getAttribute('data-version'));
  var list = document.getElementById('slides');
  var message = document.getElementById('message');
  var problems = document.getElementById('problems');
  var template = document.getElementById('slide-template');
  var base = '/api/v1/stories/' + id;

  function say(text, bad) {
    message.textContent = text;
    message.classList.toggle('is-error', !!bad);
  }

  // One request to the API; resolves with the JSON body, or rejects after
  // telling the editor what went wrong.
  function api(method, url, body) {
    var options = { method: method, headers: { 'X-CSRF-Token': csrf }, credentials: 'same-origin' };
    if (body !== undefined) {
      options.headers['Content-Type'] = 'application/json';
      options.body = JSON.stringify(body);
    }
    return fetch(url, options).then(function (response) {
      if (response.status === 204) return null;
      return response.json().then(function (data) {
        if (response.ok) {
          var v = data.story_version || data.version;
          if (v) version = v;
          return data;
        }
        if (response.status === 409) {
          say('Someone else saved this story meanwhile. Your change was not saved: reload the page to see theirs, then make it again.', true);
        } else {
          say(data.message || 'Saving failed.', true);
        }
        showProblems(data.problems || []);
        throw new Error(data.code);
      });
    });
  }

  function showProblems(items) {
    problems.replaceChildren();
    items.forEach(function (p) {
      var li = document.createElement('li');
      var slide = p.slide_id && list.querySelector('[data-slide-id="' + p.slide_id + '"] [name="' + p.field + '"]');
      if (slide) {
        var a = document.createElement('a');
        a.href = '#';
        a.textContent = p.message;
        a.addEventListener('click', function (e) { e.preventDefault(); slide.focus(); });
        li.appendChild(a);
      } else {
        li.textContent = p.message;
      }
      problems.appendChild(li);
    });
  }

  function slides() { return [].slice.call(list.children); }

  // Fields typed in but not yet saved: leaving the page asks first.
  var unsaved = new Set();
  root.addEventListener('input', function (e) {
    if (e.target.name && e.target.name !== 'q' && e.target.type !== 'file') unsaved.add(e.target);
  });
  window.addEventListener('beforeunload', function (e) {
    if (unsaved.size) e.preventDefault();
  });

  function renumber() {
    slides().forEach(function (li, i) {
      [].forEach.call(li.querySelectorAll('.position'), function (span) { span.textContent = i + 1; });
    });
  }

  function setStatus(story) {
    document.getElementById('status').textContent = story.status;
    document.getElementById('title').textContent = story.headline;
  }

  // The story's text.
  document.getElementById('story-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var lead = document.getElementById('lead').value.split('\n').map(function (p) { return p.trim(); }).filter(Boolean);
    api('PATCH', base, { headline: document.getElementById('headline').value, lead: lead, version: version })
      .then(function (story) {
        unsaved.delete(document.getElementById('headline'));
        unsaved.delete(document.getElementById('lead'));
        setStatus(story);
        say('Saved.');
      })
      .catch(function () {});
  });

  // A slide's own text is saved as soon as a field is left changed.
  function wire(li) {
    ['caption', 'alt_text', 'credit'].forEach(function (name) {
      li.querySelector('[name="' + name + '"]').addEventListener('change', function (e) {
        var body = { version: version };
        body[name] = e.target.value;
        api('PATCH', base + '/slides/' + li.getAttribute('data-slide-id'), body)
          .then(function () {
            unsaved.delete(e.target);
            say('Slide ' + (slides().indexOf(li) + 1) + ' saved.');
          })
          .catch(function () {});
      });
    });
    li.addEventListener('click', function (e) {
      var button = e.target.closest('button[data-action]');
      if (!button) return;
      var action = button.getAttribute('data-action');
      var at = slides().indexOf(li);
      if (action === 'remove') remove(li);
      else if (action === 'up' && at > 0) move(li, at - 1, button);
      else if (action === 'down' && at < slides().length - 1) move(li, at + 1, button);
      else if (action === 'cover' && at > 0) move(li, 0, button);
    });
    li.addEventListener('dragstart', function (e) {
      dragged = li;
      e.dataTransfer.effectAllowed = 'move';
      li.classList.add('is-dragged');
    });
    li.addEventListener('dragend', function () { li.classList.remove('is-dragged'); });
    li.addEventListener('dragover', function (e) { if (dragged) e.preventDefault(); });
    li.addEventListener('drop', function (e) {
      e.preventDefault();
      if (dragged && dragged !== li) move(dragged, slides().indexOf(li));
      dragged = null;
    });
  }
  var dragged = null;
  slides().forEach(wire);

  // Moves a slide to index `to` and saves the order; focus stays on the
  // button used, so repeated Move up keeps working from the keyboard.
  function move(li, to, button) {
    var order = slides().filter(function (x) { return x !== li; });
    order.splice(to, 0, li);
    api('PUT', base + '/slides/order', {
      slide_ids: order.map(function (x) { return Number(x.getAttribute('data-slide-id')); }),
      version: version,
    }).then(function () {
      order.forEach(function (x) { list.appendChild(x); });
      renumber();
      if (button) button.focus();
      say('Moved to position ' + (to + 1) + ' of ' + order.length + '.');
    }).catch(function () {});
  }

  function remove(li) {
    api('DELETE', base + '/slides/' + li.getAttribute('data-slide-id') + '?version=' + version)
      .then(function () {
        version += 1;
        var next = li.nextElementSibling || li.previousElementSibling;
        [].forEach.call(li.querySelectorAll('[name]'), function (field) { unsaved.delete(field); });
        li.remove();
        renumber();
        say('Slide removed.');
        if (next) next.querySelector('button').focus();
      })
      .catch(function () {});
  }

  function addSlide(photo, near) {
    return api('POST', base + '/slides', { photo_id: photo.id, version: version }).then(function (slide) {
      var li = template.content.firstElementChild.cloneNode(true);
      li.setAttribute('data-slide-id', slide.id);
      var thumb = slide.photo.renditions.filter(function (r) { return r.format === 'jpeg'; })[0];
      var img = li.querySelector('img');
      if (thumb) {
        img.src = thumb.url;
        img.height = Math.round(160 * thumb.height / thumb.width);
      }
      li.querySelector('[name="caption"]').value = slide.caption;
      li.querySelector('[name="alt_text"]').value = slide.alt_text;
      li.querySelector('[name="credit"]').value = slide.credit;
      if (near) {
        var flag = document.createElement('span');
        flag.className = 'flag';
        flag.textContent = 'looks like a photo already in the library';
        li.querySelector('.edit-slide-position').append(' ', flag);
      }
      list.appendChild(li);
      wire(li);
      renumber();
      return slide;
    });
  }

  // Uploads, each with its own progress bar; one after another so slides
  // keep the order the files were chosen in.
  var uploads = document.getElementById('uploads');
  function upload(files) {
    var chain = Promise.resolve();
    [].forEach.call(files, function (file) {
      var row = document.createElement('li');
      var label = document.createElement('span');
      label.textContent = file.name;
      var bar = document.createElement('progress');
      bar.max = 100;
      bar.value = 0;
      bar.setAttribute('aria-label', 'Uploading ' + file.name);
      row.append(label, ' ', bar);
      uploads.appendChild(row);
      chain = chain.then(function () {
        var warnings = [];
        return send(file, bar).then(function (photo) {
          bar.value = 100;
          warnings = photo.warnings || [];
          return addSlide(photo, photo.outcome === 'near-duplicate');
        }).then(function () {
          // A damaged metadata block: the slide is there, its caption may not be.
          label.textContent = file.name + ': added' + warnings.map(function (w) { return '; ' + w; }).join('');
          if (warnings.length) row.classList.add('is-error');
        }, function (err) {
          label.textContent = file.name + ': ' + err.message;
          row.classList.add('is-error');
        });
      });
    });
    return chain.then(function () { say('Uploads finished.'); });
  }

  function send(file, bar) {
    return new Promise(function (ok, fail) {
      var xhr = new XMLHttpRequest();
      var form = new FormData();
      form.append('file', file);
      xhr.open('POST', '/api/v1/photos');
      xhr.setRequestHeader('X-CSRF-Token', csrf);
      xhr.upload.onprogress = function (e) { if (e.lengthComputable) bar.value = Math.round(95 * e.loaded / e.total); };
      xhr.onload = function () {
        var data = {};
        try { data = JSON.parse(xhr.responseText); } catch (err) { /* not JSON */ }
        if (xhr.status === 201) ok(data);
        else fail(new Error(data.message || 'upload failed (' + xhr.status + ')'));
      };
      xhr.onerror = function () { fail(new Error('the connection failed')); };
      xhr.send(form);
    });
  }

  var input = document.getElementById('files');
  input.addEventListener('change', function () { upload(input.files).then(function () { input.value = ''; }); });
  var zone = document.getElementById('dropzone');
  zone.addEventListener('dragover', function (e) {
    if (e.dataTransfer.types.indexOf('Files') >= 0) { e.preventDefault(); zone.classList.add('is-over'); }
  });
  zone.addEventListener('dragleave', function () { zone.classList.remove('is-over'); });
  zone.addEventListener('drop', function (e) {
    e.preventDefault();
    zone.classList.remove('is-over');
    upload(e.dataTransfer.files);
  });

  // The library: find photos by caption, keyword or credit, add one.
  var results = document.getElementById('library');
  document.getElementById('library-form').addEventListener('submit', function (e) {
    e.preventDefault();
    var q = document.getElementById('library-q').value;
    api('GET', '/api/v1/photos?limit=24&q=' + encodeURIComponent(q)).then(function (data) {
      results.replaceChildren();
      if (!data.photos.length) say('No photo matches “' + q + '”.');
      data.photos.forEach(function (photo) {
        var li = document.createElement('li');
        var button = document.createElement('button');
        button.type = 'button';
        button.textContent = 'Add';
        var caption = photo.metadata.caption || photo.metadata.headline || 'Photo ' + photo.id;
        button.setAttribute('aria-label', 'Add: ' + caption);
        button.addEventListener('click', function () {
          addSlide(photo, false).then(function () { say('Added as slide ' + slides().length + '.'); }).catch(function () {});
        });
        var text = document.createElement('span');
        text.textContent = caption;
        li.append(text, ' ', button);
        results.appendChild(li);
      });
    }).catch(function () {});
  });

  // Publication.
  function publication(path, body, done) {
    api('POST', base + path, body).then(function (story) {
      setStatus(story);
      showProblems([]);
      say(done(story));
    }).catch(function () {});
  }
  document.getElementById('publish').addEventListener('click', function () {
    publication('/publish', { version: version }, function () { return 'Published.'; });
  });
  document.getElementById('unpublish').addEventListener('click', function () {
    publication('/unpublish', { version: version }, function () { return 'Unpublished: readers no longer see it.'; });
  });
  document.getElementById('schedule').addEventListener('click', function () {
    var at = document.getElementById('schedule-at').value;
    if (!at) { say('Choose a date and time first.', true); return; }
    publication('/schedule', { at: new Date(at).toISOString(), version: version }, function (story) {
      return 'Scheduled for ' + new Date(story.published_at).toLocaleString() + '.';
    });
  });
})();
