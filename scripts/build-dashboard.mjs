// Builds the dashboard (dashboard/) into dist/dashboard/: one bundled,
// minified script and one stylesheet (the app's and uPlot's), so the handler
// serves three files and the page loads nothing from elsewhere.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { build } from "esbuild";

const root = new URL("..", import.meta.url).pathname;
const out = `${root}dist/dashboard/`;
mkdirSync(out, { recursive: true });

await build({
  entryPoints: [`${root}dashboard/src/main.tsx`],
  outfile: `${out}app.js`,
  bundle: true,
  minify: true,
  format: "esm",
  target: "es2022",
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "eof",
  logLevel: "warning",
});

const css = [
  readFileSync(`${root}node_modules/uplot/dist/uPlot.min.css`, "utf8"),
  readFileSync(`${root}dashboard/styles.css`, "utf8"),
].join("\n");
writeFileSync(`${out}app.css`, css);
copyFileSync(`${root}dashboard/index.html`, `${out}index.html`);

// The bundle carries preact and uPlot; their MIT licenses travel with it.
const notices = ["preact", "uplot"].map(
  (name) => `${name}\n\n${readFileSync(`${root}node_modules/${name}/LICENSE`, "utf8")}`,
);
writeFileSync(`${out}THIRD-PARTY-LICENSES.txt`, notices.join("\n\n"));
