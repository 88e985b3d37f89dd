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
import { parseArgs, recordPage, run } from './browser.mjs';

// The image URL of every <img> matching `selector`, and whether it decoded.
function images(page, selector) {
  return page.locator(selector).evaluateAll((imgs) => imgs.map((i) => ({
    src: i.currentSrc || i.src, loaded: i.complete && i.naturalWidth > 0,
    width: i.naturalWidth, height: i.naturalHeight,
  })));
}

async function main() {
  const args = parseArgs(process.argv.slice(2), ['thumbs']);
  const result = { thumbs: [], galleryThumbs: [], osdCanvas: false };
  await recordPage(args, result, async (page, quiet) => {
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
    await quiet(700);
    result.thumbs = await images(page, '.thumbsView .thumb img');
    // The gallery (the button beside one-up and two-up) shows larger thumbnails of every page.
    await page.locator('button.imageBtn.gallery').first().click()
      .catch((err) => result.errors.push(`gallery button: ${err.message.split('\n')[0]}`));
    await page.waitForFunction(
      (n) => [...document.querySelectorAll('.iiif-gallery-component .thumb img')]
        .filter((i) => i.getAttribute('src') && i.complete).length >= n,
      wanted,
    ).catch((err) => result.errors.push(`gallery: ${err.message.split('\n')[0]}`));
    await quiet(700);
    result.galleryThumbs = await images(page, '.iiif-gallery-component .thumb img');
  });
}

run(main);
