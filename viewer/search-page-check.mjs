// The collection's search page in Chromium (playwright-core): type a query into its box, read the
// hits it lists by volume, click one, and read what Mirador then shows.
//
//   node search-page-check.mjs --page URL --query TEXT --click N \
//        --screenshot FILE --chromium /usr/bin/chromium --profile DIR [--timeout-ms 60000]
//
// The result holds the status line, each volume's heading and hit texts and links, and after the
// click the page URL, Mirador's canvas, its search query, total and selected hit, and the painted
// pixels of its annotation overlay. The caller (tests/integration/test_search_mirador.py) judges.
import { parseArgs, recordPage, run } from './browser.mjs';

function miradorState() {
  const state = window.miradorInstance.store.getState();
  const windowId = Object.keys(state.windows)[0];
  const panel = Object.values(state.searches[windowId] || {})[0] || {};
  const json = Object.values(panel.data || {}).map((d) => d.json).find(Boolean) || {};
  let painted = 0;
  [...document.querySelectorAll('.openseadragon-canvas canvas')].slice(1).forEach((canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  });
  return {
    manifestId: state.windows[windowId].manifestId,
    canvasId: state.windows[windowId].canvasId,
    query: panel.query ?? null,
    total: json.within ? json.within.total : null,
    selected: panel.selectedContentSearchAnnotationIds || [],
    resources: (json.resources || []).map((r) => ({ id: r['@id'], on: r.on })),
    overlay: painted,
  };
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['query']);
  const result = { status: null, volumes: [], url: null, mirador: null, searchRequests: [] };
  await recordPage(args, result, async (page, quiet) => {
    page.on('request', (req) => {
      if (/search[12]\?/.test(req.url())) result.searchRequests.push(req.url());
    });
    const input = page.locator('input[name="q"]');
    await input.fill(args.query);
    await input.press('Enter');
    await page.waitForFunction(() => {
      const s = document.getElementById('status');
      return s.textContent && s.textContent !== '…';
    });
    result.status = await page.locator('#status').textContent();
    result.volumes = await page.locator('#results section').evaluateAll((sections) => sections
      .map((s) => ({
        heading: s.querySelector('h2').textContent,
        hits: [...s.querySelectorAll('a')].map((a) => ({
          text: a.textContent, marked: a.querySelector('mark')?.textContent ?? null,
          href: a.getAttribute('href'), canvas: a.dataset.canvas,
        })),
      })));
    if (args.click === undefined) return;
    await page.locator('#results a').nth(Number(args.click)).click();
    await page.locator('.mirador-window h2').first().waitFor({ state: 'visible' });
    await page.waitForFunction(() => {
      const state = window.miradorInstance.store.getState();
      const windowId = Object.keys(state.windows)[0];
      const panel = Object.values(state.searches[windowId] || {})[0] || {};
      return (panel.selectedContentSearchAnnotationIds || []).length > 0;
    }, null, { timeout: 20000 }).catch(() => {});
    await quiet(1500);
    result.url = page.url();
    result.mirador = await page.evaluate(miradorState);
  });
}

run(main);
