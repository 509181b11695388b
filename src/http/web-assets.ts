// Where the dashboard's static files are: the repo's web/ folder, and the two files of uPlot
// (the chart library) from node_modules. Shared by the dashboard route and the size-budget test.
import { createRequire } from 'node:module';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

export const WEB_ROOT = fileURLToPath(new URL(import.meta.url.includes('/dist/') ? '../../../web/' : '../../web/', import.meta.url));

export const UPLOT_ROOT = dirname(createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'));

/** The vendored files served under `vendor/`, by the name the page asks for. */
export const VENDOR_FILES: Readonly<Record<string, string>> = Object.freeze({
  'uplot.js': 'uPlot.iife.min.js',
  'uplot.css': 'uPlot.min.css',
});
