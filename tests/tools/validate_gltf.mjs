// Validate GLB files with the Khronos glTF-Validator and print one JSON report per file.
// Usage: node validate_gltf.mjs FILE...   (prints a JSON array on stdout)
import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const validator = require("gltf-validator");

const reports = [];
for (const path of process.argv.slice(2)) {
  const bytes = new Uint8Array(await readFile(path));
  const report = await validator.validateBytes(bytes, { maxIssues: 100 });
  reports.push({
    path,
    validatorVersion: report.validatorVersion,
    numErrors: report.issues.numErrors,
    numWarnings: report.issues.numWarnings,
    messages: report.issues.messages.filter((m) => m.severity <= 1),
  });
}
process.stdout.write(JSON.stringify(reports));
