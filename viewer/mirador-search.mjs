// Search a manifest in Mirador (playwright-core, the system's Chromium): open the search panel,
// type each query into Mirador's own search box, and record what Mirador asked and showed.
//
//   node mirador-search.mjs --page URL --queries '["력사", "역사"]' --click N \
//        --screenshot FILE --chromium /usr/bin/chromium --profile DIR [--timeout-ms 60000]
//
// For each query the result holds the search URLs Mirador requested, the hits it listed (their
// text as shown), the total it read, and the canvas and hit selected. With --click N, hit N of
// the first query's list (0-based) is then clicked; the result says which canvas Mirador went
// to, which hit it selected and how many pixels of its annotation overlay are painted (the
// highlighted box). The caller (tests/integration/test_search_mirador.py) asserts on it.
import { parseArgs, recordPage, run } from './browser.mjs';

// Mirador's store, read in the page: the first window's canvas and search panel.
function searchState() {
  const state = window.miradorInstance.store.getState();
  const windowId = Object.keys(state.windows)[0];
  const panel = Object.values(state.searches[windowId] || {})[0] || {};
  const json = Object.values(panel.data || {}).map((d) => d.json).find(Boolean) || {};
  const error = Object.values(panel.data || {}).map((d) => d.error).find(Boolean);
  return {
    query: panel.query ?? null,
    total: json.within ? json.within.total : null,
    hits: (json.hits || []).map((h) => ({ annotations: h.annotations, match: h.match })),
    resources: (json.resources || []).map((r) => ({ id: r['@id'], on: r.on })),
    selected: panel.selectedContentSearchAnnotationIds || [],
    canvasId: state.windows[windowId].canvasId,
    error: error ? String(error) : null,
  };
}

// Painted pixels of the annotation overlay (the canvas Mirador draws highlights into).
function overlayPixels() {
  const canvases = [...document.querySelectorAll('.openseadragon-canvas canvas')];
  let painted = 0;
  canvases.slice(1).forEach((canvas) => {
    const data = canvas.getContext('2d').getImageData(0, 0, canvas.width, canvas.height).data;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) painted += 1;
  });
  return painted;
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['queries']);
  const queries = JSON.parse(args.queries);
  const result = { searchTab: false, searches: [], clicked: null, overlayBefore: null };
  await recordPage(args, result, async (page, quiet) => {
    await page.locator('.mirador-window h2').first().waitFor({ state: 'visible' });
    await page.locator('.openseadragon-canvas canvas').first().waitFor({ state: 'attached' });
    await quiet(700);
    const tab = page.locator('[role="tab"][aria-label="Search"]');
    result.searchTab = (await tab.count()) > 0;
    if (!result.searchTab) return;
    await tab.first().click();
    const input = page.getByLabel('search terms').first();
    const panel = page.locator('aside').filter({ has: input });
    result.overlayBefore = await page.evaluate(overlayPixels);
    for (const query of queries) {
      const requests = [];
      const listen = (req) => { if (req.url().includes('search1')) requests.push(req.url()); };
      page.on('request', listen);
      await input.fill(query);
      await input.press('Enter');
      await page.waitForFunction((q) => {
        const state = window.miradorInstance.store.getState();
        const windowId = Object.keys(state.windows)[0];
        const found = Object.values(state.searches[windowId] || {})[0] || {};
        return found.query === q
          && Object.values(found.data || {}).some((d) => !d.isFetching);
      }, query);
      await quiet(700);
      page.off('request', listen);
      const shown = await panel.locator('li, [role="button"]').filter({ hasText: /\S/ })
        .allTextContents();
      result.searches.push({ query, requests, shown, ...(await page.evaluate(searchState)) });
    }
    if (args.click !== undefined && queries.length) {
      await input.fill(queries[0]);
      await input.press('Enter');
      await quiet(700);
      // The hits of the list are the entries that show the query's text.
      const hits = panel.locator('li, [role="button"]').filter({ hasText: queries[0] });
      await hits.nth(Number(args.click)).click();
      await quiet(1500);
      result.clicked = { ...(await page.evaluate(searchState)), overlay: await page.evaluate(overlayPixels) };
    }
  });
}

run(main);
