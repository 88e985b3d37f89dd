// Open a Mirador page in Chromium (playwright-core, the system's browser), step through every
// canvas, open the annotations panel, and print what happened as JSON on stdout.
//
//   node mirador-check.mjs --page URL --label TEXT --canvases N --screenshot FILE \
//        --chromium /usr/bin/chromium --profile DIR [--timeout-ms 60000] [--language CODE]
//
// With --language, the UI language is first switched through Mirador's own menu (workspace
// settings > Language > the entry whose lang attribute is CODE); the languages the menu
// offered and the buttons' labels afterwards are part of the result.
//
// The caller (tests/integration/test_mirador.py) asserts on the result; this script only fails
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
  for (const key of ['page', 'label', 'canvases', 'screenshot', 'chromium', 'profile']) {
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

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const timeout = Number(args['timeout-ms'] || 60000);
  const result = {
    title: null, windowTitles: [], errors: [], responses: [], failed: [],
    canvasLabels: [], annotationsTab: false, annotations: [], screenshot: args.screenshot,
    languages: [], buttonLabels: [],
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
    const title = page.locator('.mirador-window h2').first();
    await title.waitFor({ state: 'visible' });
    if (args.language) {
      await page.locator('button[aria-label="Workspace settings"]').first().click();
      await page.getByRole('menuitem', { name: 'Language' }).first().click();
      const entries = page.locator('li[role="menuitem"][lang]');
      await entries.first().waitFor({ state: 'visible' });
      result.languages = await entries.evaluateAll((items) => items.map((i) => i.lang));
      await page.locator(`li[role="menuitem"][lang="${args.language}"]`).first().click();
      await page.keyboard.press('Escape');
    }
    await page.waitForFunction(
      (label) => [...document.querySelectorAll('.mirador-window h2')]
        .some((h) => h.textContent.trim() === label),
      args.label,
    ).catch(() => {});
    result.title = (await title.textContent()).trim();
    result.windowTitles = await page.locator('.mirador-window h2').allTextContents();
    result.buttonLabels = await page.locator('button[aria-label]')
      .evaluateAll((buttons) => buttons.map((b) => b.getAttribute('aria-label')));
    // The first canvas has painted once OpenSeadragon has drawn a tile into its canvas element.
    await page.locator('.openseadragon-canvas canvas').first().waitFor({ state: 'attached' });
    await networkQuiet(inFlight, 700, timeout);

    const canvases = Number(args.canvases);
    const next = page.locator('button.mirador-next-canvas-button').first();
    for (let i = 0; i < canvases; i += 1) {
      result.canvasLabels.push(
        (await page.locator('.mirador-window .mirador-osd-info').first().textContent()
          .catch(() => '')) || '',
      );
      if (i + 1 < canvases) {
        await next.click();
        await networkQuiet(inFlight, 700, timeout);
      }
    }

    // Mirador shows the Annotations tab only for canvases that have annotations.
    const tab = page.locator('[role="tab"][aria-label="Annotations"]');
    result.annotationsTab = (await tab.count()) > 0;
    if (result.annotationsTab) {
      await tab.first().click();
      await page.locator('li[annotationid]').first().waitFor({ state: 'visible' })
        .catch((err) => result.errors.push(`annotations panel: ${err.message.split('\n')[0]}`));
      result.annotations = await page.locator('li[annotationid]').allTextContents();
    }
    await networkQuiet(inFlight, 500, timeout);
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
