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
import { parseArgs, recordPage, run } from './browser.mjs';

async function main() {
  const args = parseArgs(process.argv.slice(2), ['label', 'canvases']);
  const result = {
    title: null, windowTitles: [], canvasLabels: [], annotationsTab: false, annotations: [],
    languages: [], buttonLabels: [],
  };
  await recordPage(args, result, async (page, quiet) => {
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
    await quiet(700);

    const canvases = Number(args.canvases);
    const next = page.locator('button.mirador-next-canvas-button').first();
    for (let i = 0; i < canvases; i += 1) {
      result.canvasLabels.push(
        (await page.locator('.mirador-window .mirador-osd-info').first().textContent()
          .catch(() => '')) || '',
      );
      if (i + 1 < canvases) {
        await next.click();
        await quiet(700);
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
    await quiet(500);
  });
}

run(main);
