// The story page in a real browser: the slideshow with script, every slide
// without, the full-screen viewer, the address bar, structured data.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { start, SLUG } from './server.js';

let site;
before(async () => { site = await start(); });
after(async () => { await site?.stop(); });

async function open(path, { javascript = true, touch = false } = {}) {
  const page = await site.browser.newPage();
  await page.setJavaScriptEnabled(javascript);
  await page.setViewport({ width: 1280, height: 900, hasTouch: touch, isMobile: touch });
  const errors = [];
  page.on('pageerror', (e) => errors.push(e.message));
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  await page.goto(site.base + path, { waitUntil: 'load' });
  page.errors = errors;
  return page;
}

/** The visible counters' text: exactly one slide shows at a time. */
async function counter(page) {
  const shown = await page.$$eval('.slide', (figures) => figures
    .filter((f) => f.getBoundingClientRect().height > 0)
    .map((f) => f.querySelector('.counter').textContent.trim()));
  assert.equal(shown.length, 1, `one slide visible, got ${shown}`);
  return shown[0];
}

const path = () => new URL(page_url).pathname;
let page_url;
async function where(page) { page_url = page.url(); return path(); }

test('buttons, keys and the address bar move together', async () => {
  const page = await open(`/stories/${SLUG}`);
  assert.equal(await counter(page), '1 / 12');
  assert.equal(await where(page), `/stories/${SLUG}`, 'the story URL is kept until the reader moves');

  await page.click('.slideshow-next');
  assert.equal(await counter(page), '2 / 12');
  assert.equal(await where(page), `/stories/${SLUG}/2`);
  assert.equal(await page.$eval('.slideshow-status', (e) => e.textContent), 'Photo 2 of 12');

  await page.click('.slideshow-prev');
  assert.equal(await counter(page), '1 / 12');
  assert.equal(await where(page), `/stories/${SLUG}/1`);

  await page.click('.slideshow-prev');
  assert.equal(await counter(page), '12 / 12', 'previous from the first wraps to the last');
  await page.click('.slideshow-next');
  assert.equal(await counter(page), '1 / 12');

  await page.keyboard.press('ArrowRight');
  assert.equal(await counter(page), '2 / 12');
  assert.equal(await where(page), `/stories/${SLUG}/2`);
  await page.keyboard.press('ArrowLeft');
  assert.equal(await counter(page), '1 / 12');

  // Home and End work inside the slideshow (focus is on the Next link).
  await page.focus('.slideshow-next');
  await page.keyboard.press('End');
  assert.equal(await counter(page), '12 / 12');
  await page.keyboard.press('Home');
  assert.equal(await counter(page), '1 / 12');

  // The neighbours are fetched ahead: no lazy loading left on slide 2.
  assert.equal(await page.$eval('#slide-2 img', (i) => i.loading), 'eager');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('a swipe moves the slideshow', async () => {
  const page = await open(`/stories/${SLUG}`, { touch: true });
  await page.$eval('#slide-1 img', (img) => img.scrollIntoView({ block: 'center' }));
  const box = await (await page.$('#slide-1 img')).boundingBox();
  const y = box.y + box.height / 2;
  await page.touchscreen.touchStart(box.x + box.width * 0.8, y);
  await page.touchscreen.touchMove(box.x + box.width * 0.5, y);
  await page.touchscreen.touchMove(box.x + box.width * 0.2, y);
  await page.touchscreen.touchEnd();
  assert.equal(await counter(page), '2 / 12');
  assert.equal(await where(page), `/stories/${SLUG}/2`);
  assert.equal(await page.$eval('dialog.viewer', (d) => d.open), false, 'a swipe does not open the viewer');

  await page.touchscreen.touchStart(box.x + box.width * 0.2, y);
  await page.touchscreen.touchMove(box.x + box.width * 0.8, y);
  await page.touchscreen.touchEnd();
  assert.equal(await counter(page), '1 / 12');
  await page.close();
});

test('a slide URL opens on that slide', async () => {
  const page = await open(`/stories/${SLUG}/5`);
  assert.equal(await counter(page), '5 / 12');
  assert.equal(await page.evaluate(() => document.activeElement.id), 'slide-5');
  await page.click('.slideshow-next');
  assert.equal(await counter(page), '6 / 12');
  assert.equal(await where(page), `/stories/${SLUG}/6`);
  await page.close();
});

test('without JavaScript every slide and caption shows, and slide URLs scroll to their slide', async () => {
  const page = await open(`/stories/${SLUG}`, { javascript: false });
  const figures = await page.$$eval('.slide', (all) => all.map((f) => ({
    visible: f.getBoundingClientRect().height > 100,
    caption: f.querySelector('.caption').getBoundingClientRect().height > 0
      && f.querySelector('.caption').textContent.trim().length > 0,
  })));
  assert.equal(figures.length, 12);
  assert.ok(figures.every((f) => f.visible && f.caption), JSON.stringify(figures));
  assert.equal(await page.$eval('.slideshow-controls', (c) => getComputedStyle(c).display), 'none');
  await page.close();

  const slide = await open(`/stories/${SLUG}/10`, { javascript: false });
  const state = await slide10(slide);
  assert.equal(state.focused, 'slide-10');
  assert.ok(state.top >= -1 && state.top < 200, `slide 10 at the top of the view, top=${state.top}`);
  await slide.close();

  // Photos still loading keep their size: the slide link lands on its slide
  // even if it scrolls before any photo arrives (here none ever does).
  const waiting = await site.browser.newPage();
  await waiting.setJavaScriptEnabled(false);
  await waiting.setViewport({ width: 1280, height: 900 });
  await waiting.setRequestInterception(true);
  waiting.on('request', (r) => { if (r.resourceType() !== 'image') r.continue(); });
  await waiting.goto(`${site.base}/stories/${SLUG}/10`, { waitUntil: 'domcontentloaded' });
  let held = await slide10(waiting);
  for (let tries = 0; tries < 40 && held.focused !== 'slide-10'; tries += 1) {
    await new Promise((done) => setTimeout(done, 50));
    held = await slide10(waiting);
  }
  assert.equal(held.focused, 'slide-10');
  assert.ok(held.top >= -1 && held.top < 200, `photos loading: slide 10 at the top, top=${held.top}`);
  await waiting.close();
});

/** Which element has focus, and where slide 10 is in the view. */
function slide10(page) {
  return page.evaluate(() => ({
    focused: document.activeElement.id,
    top: document.getElementById('slide-10').getBoundingClientRect().top,
  }));
}

test('the full-screen viewer: open, zoom, trap focus, close by Escape and by Back', async () => {
  const page = await open(`/stories/${SLUG}/3`);
  await page.click('#slide-3 .slide-photo');
  const viewer = await page.evaluate(() => {
    const d = document.querySelector('dialog.viewer');
    return {
      open: d.open,
      modal: d.matches(':modal'),
      label: document.getElementById(d.getAttribute('aria-labelledby')).textContent,
      caption: d.querySelector('.caption')?.textContent,
      credit: d.querySelector('.credit')?.textContent,
      focusInside: d.contains(document.activeElement),
    };
  });
  const slide = await page.$eval('#slide-3', (f) => ({
    caption: f.querySelector('.caption').textContent,
    credit: f.querySelector('.credit').textContent,
  }));
  assert.deepEqual(viewer, {
    open: true, modal: true, label: 'Photo 3 of 12',
    caption: slide.caption, credit: slide.credit, focusInside: true,
  });

  // Focus stays inside: tabbing never reaches the page behind.
  for (let i = 0; i < 4; i++) {
    await page.keyboard.press('Tab');
    const outside = await page.evaluate(() => {
      const a = document.activeElement;
      return a !== document.body && !document.querySelector('dialog.viewer').contains(a);
    });
    assert.equal(outside, false, 'focus left the dialog');
  }

  // Wheel and double-click zoom; the photo is pannable when zoomed.
  const stage = await (await page.$('.viewer-stage')).boundingBox();
  await page.mouse.move(stage.x + stage.width / 2, stage.y + stage.height / 2);
  await page.mouse.wheel({ deltaY: -400 });
  const scale = () => page.$eval('.viewer-stage img', (i) => new DOMMatrix(getComputedStyle(i).transform).a);
  assert.ok(await scale() > 1.5, 'wheel zooms in');
  await page.mouse.click(stage.x + stage.width / 2, stage.y + stage.height / 2, { count: 2 });
  assert.equal(await scale(), 1, 'double-click zooms back out');
  await page.mouse.click(stage.x + stage.width / 2, stage.y + stage.height / 2, { count: 2 });
  assert.equal(await scale(), 2.5, 'double-click zooms in');

  await page.keyboard.press('Escape');
  await page.waitForFunction(() => !document.querySelector('dialog.viewer').open);
  assert.equal(await page.evaluate(() => document.activeElement.closest('.slide')?.id), 'slide-3',
    'focus returns to the photo');
  assert.equal(await where(page), `/stories/${SLUG}/3`);

  await page.keyboard.press('Enter');
  await page.waitForFunction(() => document.querySelector('dialog.viewer').open);
  await page.goBack();
  await page.waitForFunction(() => !document.querySelector('dialog.viewer').open);
  assert.equal(await where(page), `/stories/${SLUG}/3`, 'Back closes the viewer and stays on the story');
  assert.equal(await counter(page), '3 / 12');
  assert.deepEqual(page.errors, []);
  await page.close();
});

test('JSON-LD holds the gallery: 12 ImageObjects with captions', async () => {
  const page = await open(`/stories/${SLUG}`);
  const data = await page.$eval('script[type="application/ld+json"]', (s) => JSON.parse(s.textContent));
  assert.equal(data['@type'], 'NewsArticle');
  const gallery = data.hasPart;
  assert.equal(gallery['@type'], 'ImageGallery');
  const images = gallery.associatedMedia;
  assert.equal(images.length, 12);
  const captions = await page.$$eval('.slide .caption', (c) => c.map((e) => e.textContent));
  const credits = await page.$$eval('.slide .credit', (c) => c.map((e) => e.textContent));
  images.forEach((image, i) => {
    assert.equal(image['@type'], 'ImageObject');
    assert.equal(image.caption, captions[i]);
    assert.equal(image.creditText, credits[i]);
    assert.match(image.contentUrl, /^http:\/\/.+\.jpg$/);
    assert.ok(image.width > 0 && image.height > 0);
  });
  await page.close();
});

test('a photo still loading shows its ThumbHash placeholder, removed once loaded', async () => {
  const page = await site.browser.newPage();
  await page.setViewport({ width: 1280, height: 900 });
  // Slide 2's photo (fetched ahead while slide 1 shows) arrives 2 s late.
  const sha = await (await fetch(`${site.base}/api/v1/stories/${SLUG}`)).json()
    .then((story) => story.slides[1].photo.sha256);
  await page.setRequestInterception(true);
  page.on('request', (r) => {
    if (r.url().includes(sha)) setTimeout(() => r.continue(), 2000);
    else r.continue();
  });
  await page.goto(`${site.base}/stories/${SLUG}`);
  const painted = await page.$eval('#slide-2 img', (img) => ({ complete: img.complete, background: img.style.backgroundImage }));
  assert.equal(painted.complete, false);
  assert.match(painted.background, /^url\("data:image\/png;base64,/);
  await page.waitForFunction(() => document.querySelector('#slide-2 img').complete, { timeout: 10_000 });
  assert.equal(await page.$eval('#slide-2 img', (img) => img.style.backgroundImage), '');
  await page.close();
});
