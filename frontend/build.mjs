// Bundles frontend/*.js into static/dist/ (served by Django as our own static files). Run by `npm run build`.
import { build } from "esbuild";

await build({
  entryPoints: { editor: "frontend/editor.js", charts: "frontend/charts.js" },
  outdir: "static/dist",
  bundle: true,
  minify: true,
  format: "iife",
  target: ["es2020"],
  legalComments: "linked", // the libraries' licence notices ship beside the bundles
  logLevel: "warning",
});
