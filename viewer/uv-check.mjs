// Open a Universal Viewer page in Chromium (playwright-core, the system's browser), wait until
// the first canvas is drawn and the thumbnail strip has loaded, and print what happened as JSON
// on stdout: every response (URL and status), failed requests, page errors, the thumbnails' image
// URLs and whether each one decoded.
//
//   node uv-check.mjs --page URL --thumbs N --screenshot FILE \
//        --chromium /usr/bin/chromium --profile DIR [--timeout-ms 60000]
//
// The caller (tests/integration/test_uv.py) asserts on the result; this script only fails
// (exit 2) when it cannot drive the browser at all.
import { chromium } from 'playwright-core';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-quic',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

function parseArgs(argv) {
  const args = {};
  for (let i = 0; i < argv.length; i += 2) {
    if (!argv[i].startsWith('--')) throw new Error(`unexpected argument ${argv[i]}`);
    args[argv[i].slice(2)] = argv[i + 1];
  }
  for (const key of ['page', 'thumbs', 'screenshot', 'chromium', 'profile']) {
    if (args[key] === undefined) throw new Error(`missing --${key}`);
  }
  return args;
}

// Resolves once no request has been in flight for `quietMs` (or after `timeoutMs`).
function networkQuiet(inFlight, quietMs, timeoutMs) {
  return new Promise((resolve) => {
    const started = Date.now();
    let lastBusy = Date.now();
    const timer = setInterval(() => {
      if (inFlight.size > 0) lastBusy = Date.now();
      if (Date.now() - lastBusy >= quietMs || Date.now() - started > timeoutMs) {
        clearInterval(timer);
        resolve();
      }
    }, 50);
  });
}

// The image URL of every <img> matching `selector`, and whether it decoded.
function images(page, selector) {
  return page.locator(selector).evaluateAll((imgs) => imgs.map((i) => ({
    src: i.currentSrc || i.src, loaded: i.complete && i.naturalWidth > 0,
    width: i.naturalWidth, height: i.naturalHeight,
  })));
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const timeout = Number(args['timeout-ms'] || 60000);
  const result = {
    errors: [], responses: [], failed: [], thumbs: [], galleryThumbs: [], osdCanvas: false,
    screenshot: args.screenshot,
  };
  const context = await chromium.launchPersistentContext(args.profile, {
    executablePath: args.chromium,
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 900 },
  });
  const inFlight = new Set();
  try {
    const page = context.pages()[0] || await context.newPage();
    page.setDefaultTimeout(timeout);
    page.on('request', (req) => inFlight.add(req));
    page.on('requestfinished', (req) => inFlight.delete(req));
    page.on('requestfailed', (req) => {
      inFlight.delete(req);
      result.failed.push({ url: req.url(), error: req.failure()?.errorText ?? '' });
    });
    page.on('response', (res) => result.responses.push({ url: res.url(), status: res.status() }));
    page.on('pageerror', (err) => result.errors.push(`pageerror: ${err.message}`));
    page.on('console', (msg) => {
      if (msg.type() === 'error') result.errors.push(`console: ${msg.text()}`);
    });

    await page.goto(args.page, { waitUntil: 'load' });
    // OpenSeadragon's drawing canvas appears once the first canvas's image service opened.
    await page.locator('.openseadragon-canvas canvas').first().waitFor({ state: 'attached' })
      .then(() => { result.osdCanvas = true; })
      .catch((err) => result.errors.push(`deep zoom: ${err.message.split('\n')[0]}`));
    // UV fills in a thumbnail's <img> src only when it scrolls into view: wait for all of them.
    const wanted = Number(args.thumbs);
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('.thumb img')].filter((i) => i.getAttribute('src'))
        .length >= n,
      wanted,
    ).catch((err) => result.errors.push(`thumbnails: ${err.message.split('\n')[0]}`));
    await networkQuiet(inFlight, 700, timeout);
    result.thumbs = await images(page, '.thumbsView .thumb img');
    // The gallery (the button beside one-up and two-up) shows larger thumbnails of every page.
    await page.locator('button.imageBtn.gallery').first().click()
      .catch((err) => result.errors.push(`gallery button: ${err.message.split('\n')[0]}`));
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('.iiif-gallery-component .thumb img')]
        .filter((i) => i.getAttribute('src') && i.complete).length >= n,
      wanted,
    ).catch((err) => result.errors.push(`gallery: ${err.message.split('\n')[0]}`));
    await networkQuiet(inFlight, 700, timeout);
    result.galleryThumbs = await images(page, '.iiif-gallery-component .thumb img');
    await page.screenshot({ path: args.screenshot, fullPage: false });
  } finally {
    await context.close();
  }
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main().catch((err) => {
  process.stderr.write(`${err.stack || err}\n`);
  process.exit(2);
});
